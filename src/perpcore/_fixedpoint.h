/* perpcore fixed-point helpers: checked 64-bit results of 128-bit intermediate arithmetic, with the
 * rounding direction in every name. "down" rounds toward -infinity (floor), "up" toward +infinity
 * (ceil), for any signs. Each checked function returns PC_OK, PC_OVERFLOW (the result does not fit
 * int64) or PC_DIV_ZERO and writes its result through `out` only on PC_OK. Nothing here allocates,
 * touches Python or depends on the platform's division sign convention. */
#ifndef PERPCORE_FIXEDPOINT_H
#define PERPCORE_FIXEDPOINT_H

#include <stdint.h>

#define PC_OK 0
#define PC_OVERFLOW 1
#define PC_DIV_ZERO 2

typedef __int128 pc_i128;

static inline pc_i128 pc_wide(int64_t a) { return (pc_i128)a; }
static inline pc_i128 pc_wide_mul(int64_t a, int64_t b) { return (pc_i128)a * (pc_i128)b; }
static inline pc_i128 pc_wide_add(pc_i128 a, pc_i128 b) { return a + b; }
static inline pc_i128 pc_wide_sub(pc_i128 a, pc_i128 b) { return a - b; }
static inline int pc_wide_lt(pc_i128 a, pc_i128 b) { return a < b; }
static inline int pc_wide_le(pc_i128 a, pc_i128 b) { return a <= b; }

/* Both operands of a division fit int64 and the divisor is positive: the common case (money and
 * prices are int64; most products are far from overflowing), which one 64-bit division serves
 * instead of a call into the 128-bit runtime; a constant divisor then becomes a multiplication.
 * The divisions below first make the divisor positive (a / b == -a / -b; the operands, sums of a
 * few int64 products, stay far from the 128-bit limits), so a negative one takes this path too. */
static inline int pc_div_is_narrow(pc_i128 a, pc_i128 b) {
    return a >= (pc_i128)INT64_MIN && a <= (pc_i128)INT64_MAX && b > 0 && b <= (pc_i128)INT64_MAX;
}

/* floor(a / b), b != 0 */
static inline pc_i128 pc_wide_div_floor(pc_i128 a, pc_i128 b) {
    if (b < 0) { a = -a; b = -b; }
    if (pc_div_is_narrow(a, b)) {
        int64_t x = (int64_t)a, y = (int64_t)b, q = x / y;
        if (x % y != 0 && x < 0) q -= 1;
        return q;
    }
    pc_i128 q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1;
    return q;
}

/* ceil(a / b), b != 0 */
static inline pc_i128 pc_wide_div_ceil(pc_i128 a, pc_i128 b) {
    if (b < 0) { a = -a; b = -b; }
    if (pc_div_is_narrow(a, b)) {
        int64_t x = (int64_t)a, y = (int64_t)b, q = x / y;
        if (x % y != 0 && x > 0) q += 1;
        return q;
    }
    pc_i128 q = a / b;
    if ((a % b != 0) && ((a < 0) == (b < 0))) q += 1;
    return q;
}

static inline int pc_narrow(pc_i128 v, int64_t *out) {
    if (v > (pc_i128)INT64_MAX || v < (pc_i128)INT64_MIN) return PC_OVERFLOW;
    *out = (int64_t)v;
    return PC_OK;
}

static inline int pc_wide_div_down(pc_i128 n, pc_i128 d, int64_t *out) {
    if (d == 0) return PC_DIV_ZERO;
    return pc_narrow(pc_wide_div_floor(n, d), out);
}

static inline int pc_wide_div_up(pc_i128 n, pc_i128 d, int64_t *out) {
    if (d == 0) return PC_DIV_ZERO;
    return pc_narrow(pc_wide_div_ceil(n, d), out);
}

/* floor(a * b / d) */
static inline int pc_mul_div_down(int64_t a, int64_t b, int64_t d, int64_t *out) {
    return pc_wide_div_down(pc_wide_mul(a, b), (pc_i128)d, out);
}

/* ceil(a * b / d) */
static inline int pc_mul_div_up(int64_t a, int64_t b, int64_t d, int64_t *out) {
    return pc_wide_div_up(pc_wide_mul(a, b), (pc_i128)d, out);
}

/* checked a + b, a - b, a * b */
static inline int pc_add(int64_t a, int64_t b, int64_t *out) {
    return __builtin_add_overflow(a, b, out) ? PC_OVERFLOW : PC_OK;
}
static inline int pc_sub(int64_t a, int64_t b, int64_t *out) {
    return __builtin_sub_overflow(a, b, out) ? PC_OVERFLOW : PC_OK;
}
static inline int pc_mul(int64_t a, int64_t b, int64_t *out) {
    return __builtin_mul_overflow(a, b, out) ? PC_OVERFLOW : PC_OK;
}

#endif
