"""Build of perpcore's native modules.

One set of Cython compiler directives for every extension. ``PERPCORE_DEBUG=1`` selects the debug
build: Cython bounds/overflow/None checks, C asserts, and ``PERPCORE_DEBUG`` defined so that the
native structures verify their own integrity after every mutating call. Release and debug builds
keep their generated C and objects in separate trees under ``build/`` so neither can pick up the
other's output.
"""

import os

from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("PERPCORE_DEBUG", "0") == "1"
MODE = "debug" if DEBUG else "release"

DIRECTIVES = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": False,
    "initializedcheck": DEBUG,
    "nonecheck": DEBUG,
    "overflowcheck": DEBUG,
    "cdivision": False,  # Python floor semantics; DESIGN.md §2 makes the sign rule part of correctness
    "embedsignature": True,
}

COMPILE_ARGS = ["-O1", "-g", "-UNDEBUG"] if DEBUG else ["-O3"]
MACROS = [("PERPCORE_DEBUG", "1" if DEBUG else "0"), ("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]

NATIVE_MODULES = ["_book", "_margin", "_funding", "_results", "_engine"]

extensions = [
    Extension(
        f"perpcore.{name}",
        [f"src/perpcore/{name}.pyx"],
        include_dirs=["src/perpcore"],
        define_macros=MACROS,
        extra_compile_args=COMPILE_ARGS,
    )
    for name in NATIVE_MODULES
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives=DIRECTIVES,
        include_path=["src"],
        build_dir=f"build/cython-{MODE}",
        compile_time_env={"PERPCORE_DEBUG": DEBUG},
    ),
    options={"build": {"build_base": f"build/{MODE}"}},
)
