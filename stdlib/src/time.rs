//! `time`: clocks (time, monotonic, perf_counter, process_time and their _ns forms), a blocking
//! `sleep`, and calendar conversions through the C library (localtime, gmtime, mktime, strftime,
//! ctime, asctime) with `struct_time` as a tuple subclass with named fields.

use std::rc::Rc;

use eddy_vm::objects::class::Class;
use eddy_vm::objects::module::Module;
use eddy_vm::{ops, Args, PyResult, Value, Vm};

use crate::clock;
use crate::util::{self, arity, defs, to_float};

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("time"));
    clock::monotonic();
    defs(
        vm,
        &m,
        &[
            ("time", |_vm, _a| Ok(Value::Float(clock::wall()))),
            ("time_ns", |_vm, _a| {
                Ok(Value::Int((clock::wall() * 1e9) as i64))
            }),
            ("monotonic", |_vm, _a| {
                Ok(Value::Float(mono_ns() as f64 / 1e9))
            }),
            ("monotonic_ns", |_vm, _a| Ok(Value::Int(mono_ns()))),
            ("perf_counter", |_vm, _a| {
                Ok(Value::Float(mono_ns() as f64 / 1e9))
            }),
            ("perf_counter_ns", |_vm, _a| Ok(Value::Int(mono_ns()))),
            ("process_time", |_vm, _a| {
                Ok(Value::Float(
                    cpu_ns(libc::CLOCK_PROCESS_CPUTIME_ID) as f64 / 1e9,
                ))
            }),
            ("process_time_ns", |_vm, _a| {
                Ok(Value::Int(cpu_ns(libc::CLOCK_PROCESS_CPUTIME_ID)))
            }),
            ("thread_time", |_vm, _a| {
                Ok(Value::Float(
                    cpu_ns(libc::CLOCK_THREAD_CPUTIME_ID) as f64 / 1e9,
                ))
            }),
            ("thread_time_ns", |_vm, _a| {
                Ok(Value::Int(cpu_ns(libc::CLOCK_THREAD_CPUTIME_ID)))
            }),
            ("sleep", sleep),
            ("localtime", |vm, a| broken_down(vm, a, "localtime", true)),
            ("gmtime", |vm, a| broken_down(vm, a, "gmtime", false)),
            ("mktime", mktime),
            ("strftime", strftime),
            ("asctime", asctime),
            ("ctime", ctime),
        ],
    );
    m.set("struct_time", Value::Class(struct_time_class(vm)));
    let (tz, dst_tz, names) = zone_facts();
    m.set("timezone", Value::Int(tz));
    m.set("altzone", Value::Int(dst_tz));
    m.set("daylight", Value::Int((tz != dst_tz) as i64));
    m.set(
        "tzname",
        Value::tuple(vec![Value::string(names.0), Value::string(names.1)]),
    );
    Ok(m)
}

fn mono_ns() -> i64 {
    (clock::monotonic() * 1e9) as i64
}

fn cpu_ns(clock: libc::clockid_t) -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes a timespec through a valid pointer to a local.
    let r = unsafe { libc::clock_gettime(clock, &mut ts) };
    if r != 0 {
        return 0;
    }
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

pub fn sleep(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "sleep", &a, 1, 1)?;
    let secs = match &a.pos[0] {
        v @ (Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::BigInt(_)) => {
            to_float(vm, v)?
        }
        v => {
            return Err(vm.type_error(format!(
                "'{}' object cannot be interpreted as an integer",
                vm.type_name(v)
            )))
        }
    };
    if secs.is_nan() {
        return Err(vm.value_error("Invalid value NaN (not a number)"));
    }
    if secs < 0.0 {
        return Err(vm.value_error("sleep length must be non-negative"));
    }
    if secs > 1e9 {
        return Err(vm.error("OverflowError", "sleep length is too large"));
    }
    // With other script threads, only this thread waits (they run meanwhile).
    if crate::threading::sleep(vm, secs) {
        return Ok(Value::None);
    }
    // Output written so far should be visible while the script waits.
    vm.flush();
    // The shared clock sleeps, or jumps under virtual time.
    clock::sleep(secs);
    Ok(Value::None)
}

fn struct_time_class(vm: &Vm) -> Rc<Class> {
    util::shared_class(vm, "struct_time", |vm| {
        util::struct_seq_class(vm, "struct_time", "time")
    })
}

const FIELDS: [&str; 9] = [
    "tm_year", "tm_mon", "tm_mday", "tm_hour", "tm_min", "tm_sec", "tm_wday", "tm_yday", "tm_isdst",
];

fn zeroed_tm() -> libc::tm {
    // SAFETY: libc::tm is a plain C struct of integers and a nullable pointer; all-zero is valid.
    unsafe { std::mem::zeroed() }
}

fn tm_to_value(vm: &Vm, tm: &libc::tm) -> Value {
    let zone = if tm.tm_zone.is_null() {
        String::from("UTC")
    } else {
        // SAFETY: tm_zone, when set by localtime_r/gmtime_r, points at a NUL-terminated static string.
        unsafe { std::ffi::CStr::from_ptr(tm.tm_zone) }
            .to_string_lossy()
            .into_owned()
    };
    // C counts weekdays from Sunday and yday from 0; Python from Monday and 1.
    let values = [
        tm.tm_year as i64 + 1900,
        tm.tm_mon as i64 + 1,
        tm.tm_mday as i64,
        tm.tm_hour as i64,
        tm.tm_min as i64,
        tm.tm_sec as i64,
        (tm.tm_wday as i64 + 6) % 7,
        tm.tm_yday as i64 + 1,
        tm.tm_isdst as i64,
    ];
    let fields: Vec<(&str, Value)> = FIELDS
        .iter()
        .zip(values)
        .map(|(k, v)| (*k, Value::Int(v)))
        .collect();
    util::struct_seq(
        &struct_time_class(vm),
        &fields,
        &[
            ("tm_zone", Value::string(zone)),
            ("tm_gmtoff", Value::Int(tm.tm_gmtoff)),
        ],
    )
}

/// Seconds since the epoch from an optional argument (None or absent: now).
fn secs_arg(vm: &mut Vm, v: Option<&Value>) -> PyResult<i64> {
    match v {
        None | Some(Value::None) => Ok(clock::wall().floor() as i64),
        Some(v) => {
            let f = to_float(vm, v)?;
            if !f.is_finite() {
                return Err(vm.error(
                    "OverflowError",
                    "timestamp out of range for platform time_t",
                ));
            }
            Ok(f.floor() as i64)
        }
    }
}

fn broken_down(vm: &mut Vm, a: Args, name: &str, local: bool) -> PyResult<Value> {
    arity(vm, name, &a, 0, 1)?;
    let t: libc::time_t = secs_arg(vm, a.pos.first())?;
    let mut tm = zeroed_tm();
    // SAFETY: both functions read a time_t and fill a tm through valid pointers to locals.
    let ok = unsafe {
        if local {
            !libc::localtime_r(&t, &mut tm).is_null()
        } else {
            !libc::gmtime_r(&t, &mut tm).is_null()
        }
    };
    if !ok {
        return Err(vm.error(
            "OverflowError",
            "timestamp out of range for platform time_t",
        ));
    }
    Ok(tm_to_value(vm, &tm))
}

/// A C `tm` from a struct_time or 9-tuple (or the current local time when absent).
fn tm_arg(vm: &mut Vm, v: Option<&Value>, fname: &str) -> PyResult<libc::tm> {
    let Some(v) = v.filter(|v| !v.is_none()) else {
        let t: libc::time_t = clock::wall().floor() as i64;
        let mut tm = zeroed_tm();
        // SAFETY: as in `broken_down`.
        unsafe { libc::localtime_r(&t, &mut tm) };
        return Ok(tm);
    };
    let items = match v {
        Value::Tuple(_) => ops::collect(vm, v)?,
        _ if eddy_vm::builtins::payload_value(v).is_some_and(|p| matches!(p, Value::Tuple(_))) => {
            ops::collect(vm, v)?
        }
        _ => return Err(vm.type_error("Tuple or struct_time argument required".to_string())),
    };
    if items.len() != 9 {
        return Err(vm.type_error(format!("{fname}(): illegal time tuple argument")));
    }
    let mut n = [0i64; 9];
    for (i, item) in items.iter().enumerate() {
        n[i] = util::to_i64(vm, item)?;
    }
    let mut tm = zeroed_tm();
    tm.tm_year = (n[0] - 1900) as i32;
    tm.tm_mon = (n[1] - 1) as i32;
    tm.tm_mday = n[2] as i32;
    tm.tm_hour = n[3] as i32;
    tm.tm_min = n[4] as i32;
    tm.tm_sec = n[5] as i32;
    tm.tm_wday = ((n[6] + 1) % 7) as i32;
    tm.tm_yday = (n[7] - 1) as i32;
    tm.tm_isdst = n[8] as i32;
    Ok(tm)
}

fn mktime(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "mktime", &a, 1, 1)?;
    let mut tm = tm_arg(vm, a.pos.first(), "mktime")?;
    // SAFETY: mktime normalises a tm we own and returns seconds.
    let t = unsafe { libc::mktime(&mut tm) };
    if t == -1 {
        return Err(vm.error("OverflowError", "mktime argument out of range"));
    }
    Ok(Value::Float(t as f64))
}

fn strftime(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "strftime", &a, 1, 2)?;
    let fmt = util::to_str_arg(vm, &a.pos[0], "strftime() argument 1")?;
    let tm = tm_arg(vm, a.pos.get(1), "strftime")?;
    if fmt.s.is_empty() {
        return Ok(Value::str(""));
    }
    let Ok(cfmt) = std::ffi::CString::new(fmt.s.as_bytes()) else {
        return Err(vm.value_error("embedded null character"));
    };
    let mut size = 256usize;
    loop {
        let mut buf = vec![0u8; size];
        // SAFETY: strftime writes at most `size` bytes into `buf` and reads the NUL-terminated format and the tm.
        let n = unsafe {
            libc::strftime(
                buf.as_mut_ptr() as *mut libc::c_char,
                size,
                cfmt.as_ptr(),
                &tm,
            )
        };
        if n > 0 || size > fmt.s.len() * 64 + 1024 {
            buf.truncate(n);
            return Ok(Value::string(String::from_utf8_lossy(&buf).into_owned()));
        }
        size *= 4;
    }
}

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn format_asctime(tm: &libc::tm) -> String {
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        DAYS[tm.tm_wday.rem_euclid(7) as usize],
        MONTHS[tm.tm_mon.rem_euclid(12) as usize],
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        tm.tm_year as i64 + 1900
    )
}

fn asctime(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "asctime", &a, 0, 1)?;
    let tm = tm_arg(vm, a.pos.first(), "asctime")?;
    Ok(Value::string(format_asctime(&tm)))
}

fn ctime(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "ctime", &a, 0, 1)?;
    let t: libc::time_t = secs_arg(vm, a.pos.first())?;
    let mut tm = zeroed_tm();
    // SAFETY: as in `broken_down`.
    unsafe { libc::localtime_r(&t, &mut tm) };
    Ok(Value::string(format_asctime(&tm)))
}

/// (timezone, altzone, (std name, dst name)): offsets west of UTC in seconds, as CPython reports.
fn zone_facts() -> (i64, i64, (String, String)) {
    let now: libc::time_t = clock::wall().floor() as i64;
    let year = 365 * 24 * 3600 / 2;
    let mut out = Vec::new();
    for t in [now - year, now] {
        let mut tm = zeroed_tm();
        // SAFETY: as in `broken_down`.
        unsafe { libc::localtime_r(&t, &mut tm) };
        let name = if tm.tm_zone.is_null() {
            "UTC".to_string()
        } else {
            // SAFETY: tm_zone points at a NUL-terminated static string after localtime_r.
            unsafe { std::ffi::CStr::from_ptr(tm.tm_zone) }
                .to_string_lossy()
                .into_owned()
        };
        out.push((tm.tm_isdst > 0, -tm.tm_gmtoff, name));
    }
    let std = out
        .iter()
        .find(|o| !o.0)
        .cloned()
        .unwrap_or_else(|| out[0].clone());
    let dst = out
        .iter()
        .find(|o| o.0)
        .cloned()
        .unwrap_or_else(|| std.clone());
    (std.1, dst.1, (std.2, dst.2))
}
