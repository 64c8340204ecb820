//! Sprig's math family: int64 arithmetic through cast, float arithmetic through
//! shopspring/decimal, ranges (`until`, `untilStep`).

use rand::Rng;

use super::convert::{cast_to_float64, cast_to_int64};
use super::{Reg, arg_int, err};
use crate::object::Param::{self, *};
use crate::template::GoError;
use crate::value::{ListKind, Value};

type R = Result<Value, GoError>;

/// Largest list `until`/`untilStep` may build; Go has no limit, but memory does.
const MAX_RANGE: i64 = 10_000_000;

fn i(v: &Value) -> i64 {
    cast_to_int64(v)
}

fn f_add1(a: &[Value]) -> R {
    Ok(Value::int64(i(&a[0]).wrapping_add(1)))
}

fn f_add(a: &[Value]) -> R {
    Ok(Value::int64(
        a.iter().fold(0i64, |acc, v| acc.wrapping_add(i(v))),
    ))
}

fn f_sub(a: &[Value]) -> R {
    Ok(Value::int64(i(&a[0]).wrapping_sub(i(&a[1]))))
}

fn f_div(a: &[Value]) -> R {
    let d = i(&a[1]);
    if d == 0 {
        return err("runtime error: integer divide by zero");
    }
    Ok(Value::int64(i(&a[0]).wrapping_div(d)))
}

fn f_mod(a: &[Value]) -> R {
    let d = i(&a[1]);
    if d == 0 {
        return err("runtime error: integer divide by zero");
    }
    Ok(Value::int64(i(&a[0]).wrapping_rem(d)))
}

fn f_mul(a: &[Value]) -> R {
    Ok(Value::int64(
        a[1..]
            .iter()
            .fold(i(&a[0]), |acc, v| acc.wrapping_mul(i(v))),
    ))
}

fn f_max(a: &[Value]) -> R {
    Ok(Value::int64(
        a[1..].iter().fold(i(&a[0]), |acc, v| acc.max(i(v))),
    ))
}

fn f_min(a: &[Value]) -> R {
    Ok(Value::int64(
        a[1..].iter().fold(i(&a[0]), |acc, v| acc.min(i(v))),
    ))
}

/// Go's `math.Max`: NaN wins, +0 beats -0.
fn go_max(x: f64, y: f64) -> f64 {
    if x.is_infinite() && x > 0.0 || y.is_infinite() && y > 0.0 {
        return f64::INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && x == y {
        return if x.is_sign_negative() { y } else { x };
    }
    if x > y { x } else { y }
}

fn go_min(x: f64, y: f64) -> f64 {
    if x.is_infinite() && x < 0.0 || y.is_infinite() && y < 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && x == y {
        return if x.is_sign_negative() { x } else { y };
    }
    if x < y { x } else { y }
}

fn f_maxf(a: &[Value]) -> R {
    Ok(Value::Float(
        a[1..].iter().fold(cast_to_float64(&a[0]), |acc, v| {
            go_max(acc, cast_to_float64(v))
        }),
    ))
}

fn f_minf(a: &[Value]) -> R {
    Ok(Value::Float(
        a[1..].iter().fold(cast_to_float64(&a[0]), |acc, v| {
            go_min(acc, cast_to_float64(v))
        }),
    ))
}

fn f_ceil(a: &[Value]) -> R {
    Ok(Value::Float(cast_to_float64(&a[0]).ceil()))
}

fn f_floor(a: &[Value]) -> R {
    Ok(Value::Float(cast_to_float64(&a[0]).floor()))
}

fn f_round(a: &[Value]) -> R {
    let round_on = a.get(2).map(cast_to_float64).unwrap_or(0.5);
    let val = cast_to_float64(&a[0]);
    let places = arg_int(a, 1) as f64;
    let pow = 10f64.powf(places);
    let digit = pow * val;
    let frac = digit.fract();
    let r = if frac >= round_on {
        digit.ceil()
    } else {
        digit.floor()
    };
    Ok(Value::Float(r / pow))
}

fn f_rand_int(a: &[Value]) -> R {
    let (min, max) = (arg_int(a, 0), arg_int(a, 1));
    let n = max.wrapping_sub(min);
    if n <= 0 {
        return err("invalid argument to Intn");
    }
    Ok(Value::int(rand::thread_rng().gen_range(0..n) + min))
}

pub(super) fn until_step(start: i64, stop: i64, step: i64) -> Result<Vec<i64>, GoError> {
    let mut v = vec![];
    if stop < start {
        if step >= 0 {
            return Ok(v);
        }
        let mut x = start;
        while x > stop {
            v.push(x);
            if v.len() as i64 > MAX_RANGE {
                return err(format!("range of more than {MAX_RANGE} elements"));
            }
            x = match x.checked_add(step) {
                Some(n) => n,
                None => break,
            };
        }
        return Ok(v);
    }
    if step <= 0 {
        return Ok(v);
    }
    let mut x = start;
    while x < stop {
        v.push(x);
        if v.len() as i64 > MAX_RANGE {
            return err(format!("range of more than {MAX_RANGE} elements"));
        }
        x = match x.checked_add(step) {
            Some(n) => n,
            None => break,
        };
    }
    Ok(v)
}

fn int_list(v: Vec<i64>) -> Value {
    Value::list_of(ListKind::Int, v.into_iter().map(Value::int).collect())
}

fn f_until(a: &[Value]) -> R {
    let n = arg_int(a, 0);
    let step = if n < 0 { -1 } else { 1 };
    Ok(int_list(until_step(0, n, step)?))
}

fn f_until_step(a: &[Value]) -> R {
    Ok(int_list(until_step(
        arg_int(a, 0),
        arg_int(a, 1),
        arg_int(a, 2),
    )?))
}

/// A decimal number `mant × 10^exp` (shopspring/decimal, within i128 range).
#[derive(Clone, Copy, Debug)]
struct Dec {
    mant: i128,
    exp: i32,
}

impl Dec {
    /// `decimal.NewFromFloat`: the shortest decimal that round-trips.
    fn from_f64(f: f64) -> Option<Dec> {
        if !f.is_finite() {
            return None;
        }
        let s = format!("{:e}", f);
        let (m, e) = s.split_once('e')?;
        let e: i32 = e.parse().ok()?;
        let neg = m.starts_with('-');
        let digits: String = m.chars().filter(|c| c.is_ascii_digit()).collect();
        let frac_len = m.split_once('.').map(|(_, f)| f.len()).unwrap_or(0) as i32;
        let mut mant: i128 = digits.parse().ok()?;
        if neg {
            mant = -mant;
        }
        Some(Dec {
            mant,
            exp: e - frac_len,
        })
    }

    fn pow10(n: u32) -> Option<i128> {
        10i128.checked_pow(n)
    }

    fn align(a: Dec, b: Dec) -> Option<(i128, i128, i32)> {
        if a.exp == b.exp {
            return Some((a.mant, b.mant, a.exp));
        }
        if a.exp > b.exp {
            let m = a.mant.checked_mul(Dec::pow10((a.exp - b.exp) as u32)?)?;
            Some((m, b.mant, b.exp))
        } else {
            let m = b.mant.checked_mul(Dec::pow10((b.exp - a.exp) as u32)?)?;
            Some((a.mant, m, a.exp))
        }
    }

    fn add(a: Dec, b: Dec) -> Option<Dec> {
        let (x, y, exp) = Dec::align(a, b)?;
        Some(Dec {
            mant: x.checked_add(y)?,
            exp,
        })
    }

    fn sub(a: Dec, b: Dec) -> Option<Dec> {
        let (x, y, exp) = Dec::align(a, b)?;
        Some(Dec {
            mant: x.checked_sub(y)?,
            exp,
        })
    }

    fn mul(a: Dec, b: Dec) -> Option<Dec> {
        Some(Dec {
            mant: a.mant.checked_mul(b.mant)?,
            exp: a.exp.checked_add(b.exp)?,
        })
    }

    /// `DivRound(b, 16)`: 16 decimal places, halves rounded away from zero.
    fn div(a: Dec, b: Dec) -> Option<Dec> {
        const PREC: i32 = 16;
        let k = a.exp - b.exp + PREC;
        let (num, den) = if k >= 0 {
            (a.mant.checked_mul(Dec::pow10(k as u32)?)?, b.mant)
        } else {
            (a.mant, b.mant.checked_mul(Dec::pow10((-k) as u32)?)?)
        };
        let q = num / den;
        let r = num % den;
        let q = if r.unsigned_abs().checked_mul(2)? >= den.unsigned_abs() {
            if (num < 0) != (den < 0) { q - 1 } else { q + 1 }
        } else {
            q
        };
        Some(Dec {
            mant: q,
            exp: -PREC,
        })
    }

    fn to_f64(self) -> f64 {
        format!("{}e{}", self.mant, self.exp).parse().unwrap_or(0.0)
    }
}

type DecOp = fn(Dec, Dec) -> Option<Dec>;
type FloatOp = fn(f64, f64) -> f64;

/// Sprig's `execDecimalOp`.
fn decimal_op(first: f64, rest: &[Value], op: DecOp, fallback: FloatOp) -> f64 {
    let mut acc = Dec::from_f64(first);
    let mut facc = first;
    for v in rest {
        let x = cast_to_float64(v);
        facc = fallback(facc, x);
        acc = match (acc, Dec::from_f64(x)) {
            (Some(a), Some(b)) => op(a, b),
            _ => None,
        };
    }
    match acc {
        Some(d) => d.to_f64(),
        None => facc,
    }
}

fn check_div(rest: &[Value]) -> Result<(), GoError> {
    if rest.iter().any(|v| cast_to_float64(v) == 0.0) {
        return err("decimal division by 0");
    }
    Ok(())
}

fn f_add1f(a: &[Value]) -> R {
    Ok(Value::Float(decimal_op(
        cast_to_float64(&a[0]),
        &[Value::int(1)],
        Dec::add,
        |x, y| x + y,
    )))
}

fn f_addf(a: &[Value]) -> R {
    Ok(Value::Float(decimal_op(0.0, a, Dec::add, |x, y| x + y)))
}

fn f_subf(a: &[Value]) -> R {
    Ok(Value::Float(decimal_op(
        cast_to_float64(&a[0]),
        &a[1..],
        Dec::sub,
        |x, y| x - y,
    )))
}

fn f_mulf(a: &[Value]) -> R {
    Ok(Value::Float(decimal_op(
        cast_to_float64(&a[0]),
        &a[1..],
        Dec::mul,
        |x, y| x * y,
    )))
}

fn f_divf(a: &[Value]) -> R {
    check_div(&a[1..])?;
    Ok(Value::Float(decimal_op(
        cast_to_float64(&a[0]),
        &a[1..],
        Dec::div,
        |x, y| x / y,
    )))
}

pub(super) fn register(r: &mut Reg<'_>) {
    const A: &[Param] = &[Any];
    const AA: &[Param] = &[Any, Any];
    r.f("add1", A, f_add1);
    r.v("add", &[], Any, f_add);
    r.f("sub", AA, f_sub);
    r.f("div", AA, f_div);
    r.f("mod", AA, f_mod);
    r.v("mul", A, Any, f_mul);
    r.v("max", A, Any, f_max);
    r.v("biggest", A, Any, f_max);
    r.v("min", A, Any, f_min);
    r.v("maxf", A, Any, f_maxf);
    r.v("minf", A, Any, f_minf);
    r.f("ceil", A, f_ceil);
    r.f("floor", A, f_floor);
    r.v("round", &[Any, Int], Float, f_round);
    r.f("randInt", &[Int, Int], f_rand_int);
    r.f("add1f", A, f_add1f);
    r.v("addf", &[], Any, f_addf);
    r.v("subf", A, Any, f_subf);
    r.v("divf", A, Any, f_divf);
    r.v("mulf", A, Any, f_mulf);
    r.f("until", &[Int], f_until);
    r.f("untilStep", &[Int, Int, Int], f_until_step);
}
