#!/usr/bin/env python3
"""The one command that turns the contracts into perpcore's bindings, and the check that they match.

    python contracts/tools/export_bindings.py                   # forge build, write bindings/ and contracts.py
    python contracts/tools/export_bindings.py --check           # cheap: source hashes, coverage, contracts.py
    python contracts/tools/export_bindings.py --check --rebuild # also forge build and compare ABI + bytecode

A deployable contract is every non-abstract ``contract`` under ``contracts/src`` outside ``interfaces/``,
and every ``library`` there with an external or public function (a linked library: contracts calling it
carry ``__$...$__`` placeholders for its address in their creation code). Each gets
``bindings/<Contract>.json``: its kind (contract or library), ABI, creation bytecode, the byte offsets of
each linked library's placeholders (``linkReferences``, library name → offsets), NatSpec, the enums it
uses, and ``sourceHash`` (SHA-256 over foundry.toml, package-lock.json and every one of our own sources
it compiles from). ``src/perpcore/chain/contracts.py``, the typed wrappers, is generated from those JSON
files alone. This script owns both outputs and never edits anything else; it needs only the standard
library (it loads ``perpcore/chain/naming.py`` by path) and, to build, forge in ``contracts/node_modules/.bin``.
"""

import argparse
import hashlib
import importlib.util
import json
import keyword
import re
import subprocess
import sys
import textwrap
from pathlib import Path

CONTRACTS = Path(__file__).resolve().parents[1]
REPO = CONTRACTS.parent
BINDINGS = REPO / "bindings"
MODULE = REPO / "src" / "perpcore" / "chain" / "contracts.py"
FORGE = CONTRACTS / "node_modules" / ".bin" / "forge"
NOT_DEPLOYABLE = ("src/interfaces/",)
BUILD_INPUTS = ("foundry.toml", "package-lock.json")
COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
DECLARATION = re.compile(r"^\s*(abstract\s+contract|contract|library|interface)\s+(\w+)", re.M)
EXTERNAL_FUNCTION = re.compile(r"\bfunction\s+\w+\s*\([^)]*\)[^{;]*\b(?:external|public)\b")
PLACEHOLDER = re.compile(r"__\$[0-9a-f]{34}\$__")
ENUM_DECL = re.compile(r"\benum\s+(\w+)\s*\{([^}]*)\}")

_NAMING = importlib.util.spec_from_file_location("naming", REPO / "src" / "perpcore" / "chain" / "naming.py")
naming = importlib.util.module_from_spec(_NAMING)
_NAMING.loader.exec_module(naming)
snake_case = naming.snake_case


def candidate_sources() -> list[str]:
    """Our source files that may hold deployable contracts, relative to contracts/."""
    paths = (p.relative_to(CONTRACTS).as_posix() for p in (CONTRACTS / "src").rglob("*.sol"))
    return sorted(p for p in paths if not p.startswith(NOT_DEPLOYABLE))


def declared_contracts() -> dict[str, tuple[str, str]]:
    """Every deployable declared in the candidate sources: name → (source path, "contract" or "library").
    A library is deployable when its body declares an external or public function."""
    found = {}
    for path in candidate_sources():
        text = COMMENTS.sub("", (CONTRACTS / path).read_text())
        declarations = list(DECLARATION.finditer(text))
        for this, following in zip(declarations, [*declarations[1:], None]):
            kind, name = this.groups()
            body = text[this.end():following.start() if following else len(text)]
            if kind == "contract" or (kind == "library" and EXTERNAL_FUNCTION.search(body)):
                found[name] = (path, kind)
    return found


def source_hash(sources: list[str]) -> str:
    digest = hashlib.sha256()
    for path in [*BUILD_INPUTS, *sorted(sources)]:
        digest.update(f"{path}\0{hashlib.sha256((CONTRACTS / path).read_bytes()).hexdigest()}\n".encode())
    return digest.hexdigest()


def enums_in(sources: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sources:
        for name, body in ENUM_DECL.findall(COMMENTS.sub("", (CONTRACTS / path).read_text())):
            members = [m.strip() for m in body.split(",") if m.strip()]
            if found.setdefault(name, members) != members:
                sys.exit(f"export_bindings: two enums named {name} with different members")
    return found


def forge_build(docs: bool) -> dict[str, dict]:
    """Runs forge build and returns the binding of every declared contract, by name. Without ``docs`` the
    build is the one contracts/test.sh makes (cached after it) and the NatSpec fields stay empty."""
    if not FORGE.exists():
        sys.exit(f"export_bindings: {FORGE} is missing; run contracts/test.sh once to install the toolchain")
    extra = ["--extra-output", "userdoc", "devdoc"] if docs else []
    subprocess.run([str(FORGE), "build", *extra], cwd=CONTRACTS, check=True, stdout=subprocess.DEVNULL)
    result = {}
    for name, (path, kind) in declared_contracts().items():
        artifact = json.loads((CONTRACTS / "out" / Path(path).name / f"{name}.json").read_text())
        metadata = artifact["metadata"]
        assert metadata["settings"]["compilationTarget"] == {path: name}, (path, name)
        sources = sorted(s for s in metadata["sources"] if not s.startswith("node_modules/"))
        result[name] = {
            "contractName": name,
            "kind": kind,
            "sourcePath": path,
            "compiler": metadata["compiler"]["version"],
            "evmVersion": metadata["settings"]["evmVersion"],
            "sourceHash": source_hash(sources),
            "sources": sources,
            "abi": artifact["abi"],
            "bytecode": artifact["bytecode"]["object"],
            "linkReferences": {library: sorted(ref["start"] for ref in refs)
                               for by_name in artifact["bytecode"]["linkReferences"].values()
                               for library, refs in by_name.items()},
            "enums": enums_in(sources),
            "devdoc": artifact.get("devdoc", {}),
            "userdoc": artifact.get("userdoc", {}),
        }
    return result


def read_bindings() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(BINDINGS.glob("*.json"))}


def dump(binding: dict) -> str:
    return json.dumps(binding, indent=1, sort_keys=True) + "\n"


# --- the typed wrappers --------------------------------------------------------------------------------

HEADER = '''"""Typed wrappers of perpcore's contracts, generated by contracts/tools/export_bindings.py from the
bindings (``bindings/*.json``): do not edit, regenerate. One ``BoundContract`` subclass per contract with a
method per external function (views return values, the rest send a transaction and return its
``Receipt``), one ``ContractRevert`` subclass per custom error, a NamedTuple per struct and an IntEnum per
enum. Docstrings are the contracts' NatSpec.
"""

from enum import IntEnum
from typing import NamedTuple

from web3 import Web3

from perpcore.chain.contract import BoundContract, Receipt, revert_error
from perpcore.errors import ContractRevert

Address = str | BoundContract
'''


ROLE_CHECK = "hasRole(bytes32,address)"
SHARED_BASE = "RoleGuarded"
SHARED_DOC = ("The methods every role-checking perpcore contract shares (OpenZeppelin's AccessControl: roles are "
              "the ids of Roles.sol, ``perpcore.chain.role_id``).")


class Generator:
    """Writes contracts.py from the bindings: collects enums, structs and errors across all contracts
    (one class per name; two different definitions under one name stop the export)."""

    def __init__(self, bindings: dict[str, dict]) -> None:
        self.bindings = bindings
        self.enums: dict[str, list[str]] = {}
        self.structs: dict[str, list[dict]] = {}
        self.errors: dict[str, dict] = {}
        self.error_docs: dict[str, str] = {}
        for b in bindings.values():
            for name, members in b["enums"].items():
                self._once(self.enums, name, members)
            for item in b["abi"]:
                for param in [*item.get("inputs", ()), *item.get("outputs", ())]:
                    self._collect_structs(param)
                if item["type"] == "error":
                    docs = [*b["userdoc"].get("errors", {}).get(signature(item), ()),
                            *b["devdoc"].get("errors", {}).get(signature(item), ())]
                    notice = " ".join(d.get("notice") or d.get("details", "") for d in docs[:1])
                    self._once(self.errors, item["name"], item)  # one class, the first contract's NatSpec
                    self.error_docs.setdefault(item["name"], notice or f"The contracts' {item['name']} error.")
        names = [*self.enums, *self.structs, *self.errors, *bindings]
        clashes = {n for n in names if names.count(n) > 1}
        if clashes:
            sys.exit(f"export_bindings: one name for two generated classes: {sorted(clashes)}")

    @staticmethod
    def _once(table: dict, name: str, value) -> None:
        if table.setdefault(name, value) != value:
            sys.exit(f"export_bindings: two different definitions named {name}")

    def _collect_structs(self, param: dict) -> None:
        if param["type"].startswith("tuple"):
            for component in param["components"]:
                self._collect_structs(component)
            self._once(self.structs, struct_name(param), param["components"])

    def py_type(self, param: dict, *, arg: bool = False) -> str:
        kind, internal = param["type"], param.get("internalType", "")
        if kind.endswith("]"):
            inner = {**param, "type": kind[:kind.rindex("[")], "internalType": internal[:internal.rfind("[")]}
            return f"list[{self.py_type(inner, arg=arg)}]"
        if kind == "tuple":
            return struct_name(param)
        if internal.startswith("enum "):
            return internal.rsplit(".", 1)[-1]
        if kind == "address":
            return "Address" if arg else "str"
        if kind.startswith(("uint", "int")):
            return "int"
        return {"bool": "bool", "string": "str"}.get(kind, "bytes")

    def shape(self, outputs: list[dict]) -> str:
        shapes = [self.py_type(o) if o["type"] == "tuple" or o.get("internalType", "").startswith("enum ")
                  else "None" for o in outputs]
        if len(outputs) == 1:
            return shapes[0]
        return "None" if set(shapes) == {"None"} else f"({', '.join(shapes)},)"

    def module(self) -> str:
        parts = [HEADER]
        for name, members in self.enums.items():
            body = "\n".join(f"    {snake_case(m).upper()} = {i}" for i, m in enumerate(members))
            parts.append(f'\nclass {name}(IntEnum):\n    """The contracts\' {name} enum."""\n\n{body}\n')
        for name, components in self.structs.items():
            body = "\n".join(f"    {py_name(c['name'], i)}: {self.py_type(c)}" for i, c in enumerate(components))
            parts.append(f'\nclass {name}(NamedTuple):\n    """The contracts\' {name} struct."""\n\n{body}\n')
        for name, item in self.errors.items():
            fields = [py_name(p["name"], i) for i, p in enumerate(item["inputs"])]
            annotations = "".join(f"    {f}: {self.py_type(p)}\n" for f, p in zip(fields, item["inputs"]))
            parts.append(
                f"\n@revert_error\nclass {name}(ContractRevert):\n{docstring(self.error_docs[name], 4)}\n\n"
                f'    SIGNATURE = "{signature(item)}"\n'
                f"    TYPES = {tuple(abi_type(p) for p in item['inputs'])!r}\n"
                f"    FIELDS = {tuple(fields)!r}\n{annotations}")
        shared = self.shared_methods()
        if shared:
            parts.append(f"\nclass {SHARED_BASE}(BoundContract):\n"
                         f"{docstring(SHARED_DOC, 4)}\n" + "".join(shared.values()))
        for name, b in self.bindings.items():
            parts.append(self.contract_class(name, b, shared))
        exported = [*self.enums, *self.structs, *self.errors, *([SHARED_BASE] if shared else []),
                    *self.bindings]
        parts.append("\n__all__ = [\n" + "".join(f'    "{n}",\n' for n in ["Address", *exported]) + "]\n")
        return "\n".join(parts)

    def methods(self, b: dict) -> dict[str, list[str]]:
        """A contract's generated methods by signature (blank line, def line, docstring, body), in the
        order they are written."""
        functions = [i for i in b["abi"] if i["type"] == "function" and b["kind"] == "contract"]
        overloaded = {f["name"] for f in functions if [g["name"] for g in functions].count(f["name"]) > 1}
        return {signature(fn): self.method(fn, b, overloaded)
                for fn in sorted(functions, key=lambda f: (snake_case(f["name"]), signature(f)))}

    def shared_methods(self) -> dict[str, str]:
        """The methods every role-checking contract generates alike, their NatSpec aside
        (OpenZeppelin's AccessControl): written once, with the fullest docstring, in a base class
        those contracts derive from."""
        holders = [m for m in map(self.methods, self.bindings.values()) if ROLE_CHECK in m]
        if len(holders) < 2:
            return {}
        shared = {}
        for sig, method in holders[0].items():
            alike = [h[sig] for h in holders if sig in h and h[sig][1::2] == method[1::2]]
            if len(alike) == len(holders):
                shared[sig] = "\n".join(max(alike, key=lambda m: len(m[2]))) + "\n"
        return shared

    def contract_class(self, name: str, b: dict, shared: dict[str, str]) -> str:
        userdoc, devdoc = b["userdoc"], b["devdoc"]
        about = " ".join(filter(None, [userdoc.get("notice"), devdoc.get("details")])) or f"The {name} contract."
        methods = self.methods(b)
        base = SHARED_BASE if shared and ROLE_CHECK in methods else "BoundContract"
        lines = [f"\nclass {name}({base}):", docstring(about, 4), "", f'    CONTRACT = "{name}"']
        constructor = next((i for i in b["abi"] if i["type"] == "constructor"), {"inputs": []})
        params = [(py_name(p["name"], i), p) for i, p in enumerate(constructor["inputs"])]
        sig = "".join(f", {n}: {self.py_type(p, arg=True)}" for n, p in params)
        call = "".join(f", {n}" for n, _ in params)
        summary = f"Deploys a {name} from ``sender`` and waits for it."
        libraries = sorted(b["linkReferences"])
        if libraries:
            sig += ", *" + "".join(f", {snake_case(lib)}: Address" for lib in libraries)
            call += ", libraries={" + ", ".join(f'"{lib}": {snake_case(lib)}' for lib in libraries) + "}"
            summary += " Linked against the deployed " + ", ".join(f"``{lib}``" for lib in libraries) + "."
        if b["kind"] == "library":
            summary += (" A linked library: contracts call its external functions by DELEGATECALL, so this"
                        " wrapper only deploys it.")
        doc = method_doc(summary, devdoc.get("methods", {}).get("constructor", {}), params, [])
        lines += ["", "    @classmethod", def_line("deploy", f"cls, w3: Web3, sender: str{sig}", f'"{name}"'),
                  docstring(doc, 8), return_line(f"cls._deploy(w3, sender{call})")]
        inherited = shared if base == SHARED_BASE else {}
        return "\n".join(lines + [line for sig, method in methods.items() if sig not in inherited
                                  for line in method]) + "\n"

    def method(self, fn: dict, b: dict, overloaded: set[str]) -> list[str]:
        sig = signature(fn)
        method = snake_case(fn["name"])
        if fn["name"] in overloaded:
            method += "_" + "_".join(snake_case(abi_type(p)).replace("[]", "s") for p in fn["inputs"])
        params = [(py_name(p["name"], i), p) for i, p in enumerate(fn["inputs"])]
        args = "".join(f", {n}: {self.py_type(p, arg=True)}" for n, p in params)
        call_args = "".join(f", {n}" for n, _ in params)
        notice = b["userdoc"].get("methods", {}).get(sig, {}).get("notice", "")
        dev = b["devdoc"].get("methods", {}).get(sig, {})
        outputs = fn["outputs"]
        if fn["stateMutability"] in ("view", "pure"):
            if len(outputs) == 1:
                returns = self.py_type(outputs[0])
            else:
                returns = f"tuple[{', '.join(self.py_type(o) for o in outputs)}]" if outputs else "None"
            shape = self.shape(outputs) if outputs else "None"
            tail = f", returns={shape}" if shape != "None" else ""
            body = f'self._call("{sig}"{call_args}{tail})'
            doc = method_doc(notice or f"Reads ``{sig}``.", dev, params,
                             [(py_name(o["name"], i), o) for i, o in enumerate(outputs)])
        else:
            returns = "Receipt"
            payable = fn["stateMutability"] == "payable"
            args += ", value: int = 0" if payable else ""
            body = f'self._transact("{sig}"{call_args}{", value=value" if payable else ""})'
            doc = method_doc((notice or f"Sends ``{sig}``.") + " Sends the transaction and waits for its receipt.",
                             dev, params, [])
        return ["", def_line(method, f"self{args}", returns), docstring(doc, 8), return_line(body)]


def def_line(name: str, params: str, returns: str) -> str:
    """A method's def line, its parameters on their own lines when one line would pass 120 columns."""
    line = f"    def {name}({params}) -> {returns}:"
    if len(line) <= 120:
        return line
    return f"    def {name}(\n" + "".join(f"        {p},\n" for p in params.split(", ")) + f"    ) -> {returns}:"


def return_line(call: str) -> str:
    """A method's return statement, its call's arguments on their own lines past 120 columns."""
    line = f"        return {call}"
    if len(line) <= 120:
        return line
    head, _, args = call.partition("(")
    return f"        return {head}(\n" + "".join(f"            {a},\n" for a in split_args(args[:-1])) + "        )"


def split_args(args: str) -> list[str]:
    """Top-level comma-separated arguments (commas inside braces stay)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(args):
        depth += ch in "({["
        depth -= ch in ")}]"
        if ch == "," and depth == 0:
            parts.append(args[start:i].strip())
            start = i + 1
    return [*parts, args[start:].strip()]


def struct_name(param: dict) -> str:
    internal = param.get("internalType", "")
    if not internal.startswith("struct "):
        sys.exit(f"export_bindings: a tuple without a struct name: {param}")
    return internal.removeprefix("struct ").rsplit(".", 1)[-1].split("[")[0]


def abi_type(param: dict) -> str:
    if param["type"].startswith("tuple"):
        return f"({','.join(abi_type(c) for c in param['components'])}){param['type'][5:]}"
    return param["type"]


def signature(item: dict) -> str:
    return f"{item['name']}({','.join(abi_type(p) for p in item['inputs'])})"


def py_name(name: str, index: int) -> str:
    name = snake_case(name) if name else f"arg{index}"
    return name + "_" if keyword.iskeyword(name) else name


def method_doc(summary: str, dev: dict, params: list, outputs: list) -> str:
    parts = [summary]
    if dev.get("details"):
        parts.append(dev["details"])
    documented = [(n, dev.get("params", {}).get(p["name"])) for n, p in params]
    if any(text for _, text in documented):
        parts.append("Args:\n" + "\n".join(f"    {n}: {text or ''}".rstrip() for n, text in documented))
    returns = [(n, dev.get("returns", {}).get(o["name"] or "_0")) for n, o in outputs]
    if any(text for _, text in returns):
        parts.append("Returns:\n" + "\n".join(f"    {n}: {text}" for n, text in returns if text))
    return "\n\n".join(parts)


def docstring(text: str, indent: int) -> str:
    pad = " " * indent
    paragraphs = []
    for paragraph in text.replace('"""', "'''").replace("\\", "\\\\").split("\n\n"):
        lines = []
        for line in paragraph.split("\n"):
            extra = len(line) - len(line.lstrip())
            lines += textwrap.wrap(line.strip(), 110 - indent - extra, initial_indent=" " * extra,
                                   subsequent_indent=" " * (extra + 4 if extra else 0)) or [""]
        paragraphs.append("\n".join(pad + l if l else "" for l in lines))
    body = "\n\n".join(paragraphs)
    return f'{pad}"""{body.lstrip()}\n{pad}"""' if "\n" in body else f'{pad}"""{body.lstrip()}"""'


# --- entry points --------------------------------------------------------------------------------------


def export() -> None:
    built = forge_build(docs=True)
    BINDINGS.mkdir(exist_ok=True)
    for stale in set(read_bindings()) - set(built):
        (BINDINGS / f"{stale}.json").unlink()
    for name, binding in built.items():
        (BINDINGS / f"{name}.json").write_text(dump(binding))
    MODULE.write_text(Generator(read_bindings()).module())
    print(f"export_bindings: {len(built)} bindings ({', '.join(sorted(built))}) and {MODULE.relative_to(REPO)}")


def check(rebuild: bool) -> list[str]:
    """Every way the committed bindings and contracts.py differ from the sources, as messages."""
    problems = []
    bindings = read_bindings()
    declared = declared_contracts()
    for name in sorted(set(declared) - set(bindings)):
        problems.append(f"{name} ({declared[name][0]}) has no binding")
    for name in sorted(set(bindings) - set(declared)):
        problems.append(f"bindings/{name}.json has no contract in contracts/src")
    for name, binding in bindings.items():
        missing = [s for s in binding["sources"] if not (CONTRACTS / s).exists()]
        if missing or binding["sourceHash"] != source_hash(binding["sources"]):
            problems.append(f"bindings/{name}.json is stale: its sources or the build settings changed")
        problems += link_problems(name, binding, bindings)
    if MODULE.read_text() != Generator(bindings).module():
        problems.append(f"{MODULE.relative_to(REPO)} differs from what the bindings generate")
    if rebuild:
        for name, fresh in forge_build(docs=False).items():
            for key in ("abi", "bytecode", "linkReferences"):
                if name in bindings and bindings[name][key] != fresh[key]:
                    problems.append(f"bindings/{name}.json: {key} differs from a fresh forge build")
    return problems


def link_problems(name: str, binding: dict, bindings: dict[str, dict]) -> list[str]:
    """How a binding's link references disagree with its bytecode or name no library binding: every
    placeholder in the creation code must sit at a listed offset of a library perpcore ships."""
    problems = []
    code = binding["bytecode"][2:]
    listed = {start for starts in binding["linkReferences"].values() for start in starts}
    found = {m.start() // 2 for m in PLACEHOLDER.finditer(code) if m.start() % 2 == 0}
    if listed != found:
        problems.append(f"bindings/{name}.json: link placeholders at {sorted(found)}, listed at {sorted(listed)}")
    for library in binding["linkReferences"]:
        if bindings.get(library, {}).get("kind") != "library":
            problems.append(f"bindings/{name}.json links {library}, which has no library binding")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 on drift")
    parser.add_argument("--rebuild", action="store_true", help="with --check: also forge build and compare")
    options = parser.parse_args()
    if not options.check:
        export()
        return 0
    problems = check(options.rebuild)
    for problem in problems:
        print(f"drift: {problem}", file=sys.stderr)
    if problems:
        print("regenerate with: python contracts/tools/export_bindings.py", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
