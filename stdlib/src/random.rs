//! `random`: a `Random` class (xoshiro256** generator, so outputs differ from CPython's Mersenne
//! Twister, which SCOPE allows) and the module-level functions, which are bound methods of one
//! hidden instance, as in CPython. Argument checks and error messages follow CPython 3.11.

use std::rc::Rc;

use eddy_vm::objects::class::Class;
use eddy_vm::objects::module::Module;
use eddy_vm::{attr, ops, Args, PyResult, Value, Vm};
use num_bigint::{BigInt, Sign};
use num_traits::{One, Signed, ToPrimitive, Zero};

use crate::native_state;
use crate::util::{self, arity, to_bigint, to_float};

/// Generator state: xoshiro256** plus the spare normal deviate `gauss` caches.
struct Rng {
    s: [u64; 4],
    gauss_next: Option<f64>,
}

native_state!(Rng, |_s, _f| {}, |_c, _out| {});

fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e3779b97f4a7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    z ^ (z >> 31)
}

impl Rng {
    fn from_seed(seed: u64) -> Rng {
        let mut x = seed;
        Rng {
            s: [
                splitmix(&mut x),
                splitmix(&mut x),
                splitmix(&mut x),
                splitmix(&mut x),
            ],
            gauss_next: None,
        }
    }
    fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }
    /// A float in [0, 1) with 53 random bits.
    fn random(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// Uniform in [0, n) for n > 0, without modulo bias.
    fn below_u64(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let r = self.next_u64();
            if r < zone {
                return r % n;
            }
        }
    }
    fn getrandbits(&mut self, k: u64) -> BigInt {
        let mut bytes = Vec::with_capacity((k as usize).div_ceil(8));
        while (bytes.len() as u64) * 8 < k {
            bytes.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        let mut n = BigInt::from_bytes_le(Sign::Plus, &bytes);
        let extra = bytes.len() as u64 * 8 - k;
        if extra > 0 {
            n >>= extra;
        }
        n
    }
    /// Uniform in [0, n) for any positive int.
    fn below(&mut self, n: &BigInt) -> BigInt {
        if let Some(small) = n.to_u64() {
            return BigInt::from(self.below_u64(small));
        }
        let k = n.bits();
        loop {
            let r = self.getrandbits(k);
            if &r < n {
                return r;
            }
        }
    }
}

/// Fills `out` with bytes from the OS entropy source (falls back to the clock).
pub fn fill_entropy(out: &mut [u8]) {
    use std::io::Read;
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        if f.read_exact(out).is_ok() {
            return;
        }
    }
    let mut x = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    for b in out.iter_mut() {
        *b = splitmix(&mut x) as u8;
    }
}

fn entropy_seed() -> u64 {
    let mut b = [0u8; 8];
    fill_entropy(&mut b);
    u64::from_le_bytes(b)
}

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("random"));
    let cls = random_class(vm);
    m.set("Random", Value::Class(cls.clone()));
    let inst = util::new_native(&cls, Rng::from_seed(entropy_seed()));
    for name in [
        "seed",
        "random",
        "randint",
        "randrange",
        "choice",
        "choices",
        "shuffle",
        "sample",
        "uniform",
        "gauss",
        "normalvariate",
        "expovariate",
        "triangular",
        "getrandbits",
        "randbytes",
        "betavariate",
        "paretovariate",
        "lognormvariate",
        "vonmisesvariate",
        "getstate",
        "setstate",
    ] {
        let bound = attr::get_attr(vm, &inst, name)?;
        m.set(name, bound);
    }
    m.set("_inst", inst);
    Ok(m)
}

fn random_class(vm: &Vm) -> Rc<Class> {
    let cls = util::native_class(vm, "Random", "random", None, random_new);
    util::methods(
        vm,
        &cls,
        &[
            ("seed", seed),
            ("random", |vm, a| {
                Ok(Value::Float(rng(vm, &a, |r| r.random())?))
            }),
            ("randint", randint),
            ("randrange", randrange),
            ("choice", choice),
            ("choices", choices),
            ("shuffle", shuffle),
            ("sample", sample),
            ("uniform", uniform),
            ("gauss", gauss),
            ("normalvariate", normalvariate),
            ("expovariate", expovariate),
            ("triangular", triangular),
            ("getrandbits", getrandbits),
            ("randbytes", randbytes),
            ("betavariate", betavariate),
            ("paretovariate", paretovariate),
            ("lognormvariate", lognormvariate),
            ("vonmisesvariate", vonmisesvariate),
            ("getstate", getstate),
            ("setstate", setstate),
        ],
    );
    cls
}

fn random_new(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let cls = util::new_cls(vm, &mut a)?;
    let seed = match a.pos.first() {
        None | Some(Value::None) => entropy_seed(),
        Some(v) => seed_of(vm, v)?,
    };
    Ok(util::new_native(&cls, Rng::from_seed(seed)))
}

/// Runs `f` on the generator behind `a.pos[0]` (the Random instance).
fn rng<R>(vm: &Vm, a: &Args, f: impl FnOnce(&mut Rng) -> R) -> PyResult<R> {
    util::state(vm, &a.pos[0], "Random", f)
}

/// A 64-bit seed from a script value: ints by value, str/bytes by content, others by hash.
fn seed_of(vm: &mut Vm, v: &Value) -> PyResult<u64> {
    Ok(match v {
        Value::Int(i) => i.unsigned_abs(),
        Value::Bool(b) => *b as u64,
        Value::BigInt(b) => {
            let (_, digits) = b.to_u64_digits();
            digits.iter().fold(0u64, |acc, d| acc.rotate_left(13) ^ d)
        }
        Value::Float(f) => f.to_bits(),
        Value::Str(s) => fnv(s.s.as_bytes()),
        Value::Bytes(b) => fnv(b),
        Value::None => entropy_seed(),
        other => {
            if matches!(other, Value::Instance(_)) || matches!(other, Value::Tuple(_)) {
                return Err(vm.type_error("The only supported seed types are: None,\nint, float, str, bytes, and bytearray.".to_string()));
            }
            ops::hash(vm, other)? as u64
        }
    })
}

fn fnv(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for x in b {
        h ^= *x as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

fn seed(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let _version = a.take_kw("version");
    let v = util::arg(&mut a, 1, "a").unwrap_or(Value::None);
    let s = seed_of(vm, &v)?;
    rng(vm, &a, |r| *r = Rng::from_seed(s))?;
    Ok(Value::None)
}

fn getstate(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (s, g) = rng(vm, &a, |r| (r.s, r.gauss_next))?;
    let mut items: Vec<Value> = s
        .iter()
        .map(|x| Value::from_bigint(BigInt::from(*x)))
        .collect();
    items.push(g.map(Value::Float).unwrap_or(Value::None));
    Ok(Value::tuple(items))
}

fn setstate(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "setstate", &a, 2, 2)?;
    let items = ops::collect(vm, &a.pos[1])?;
    if items.len() != 5 {
        return Err(vm.value_error("state vector is the wrong size"));
    }
    let mut s = [0u64; 4];
    for i in 0..4 {
        s[i] = to_bigint(vm, &items[i])?
            .to_u64()
            .ok_or_else(|| vm.value_error("invalid state"))?;
    }
    let g = match &items[4] {
        Value::None => None,
        v => Some(to_float(vm, v)?),
    };
    rng(vm, &a, |r| {
        r.s = s;
        r.gauss_next = g;
    })?;
    Ok(Value::None)
}

/// An int argument for randrange: ints, or integral floats (3.11 still accepts them).
fn int_arg(vm: &mut Vm, v: &Value, which: usize) -> PyResult<BigInt> {
    if let Value::Float(f) = v {
        if f.fract() != 0.0 || !f.is_finite() {
            return Err(vm.value_error(format!(
                "non-integer {} for randrange()",
                ["arg 1", "stop", "step"][which]
            )));
        }
        return Ok(num_traits::FromPrimitive::from_f64(*f).unwrap_or_default());
    }
    to_bigint(vm, v)
}

fn randrange_impl(
    vm: &mut Vm,
    a: &Args,
    start: &Value,
    stop: Option<&Value>,
    step: Option<&Value>,
) -> PyResult<Value> {
    let istart = int_arg(vm, start, 0)?;
    let Some(stop) = stop.filter(|s| !s.is_none()) else {
        if step.is_some() {
            return Err(vm.type_error("Missing a non-None stop argument"));
        }
        if istart.is_positive() {
            return Ok(Value::from_bigint(rng(vm, a, |r| r.below(&istart))?));
        }
        return Err(vm.value_error("empty range for randrange()"));
    };
    let istop = int_arg(vm, stop, 1)?;
    let width = &istop - &istart;
    let istep = match step {
        Some(s) => int_arg(vm, s, 2)?,
        None => BigInt::one(),
    };
    if istep.is_one() {
        if width.is_positive() {
            let off = rng(vm, a, |r| r.below(&width))?;
            return Ok(Value::from_bigint(istart + off));
        }
        return Err(vm.value_error(format!(
            "empty range for randrange() ({istart}, {istop}, {width})"
        )));
    }
    let n = if istep.is_positive() {
        num_integer::Integer::div_floor(&(&width + &istep - BigInt::one()), &istep)
    } else if istep.is_negative() {
        num_integer::Integer::div_floor(&(&width + &istep + BigInt::one()), &istep)
    } else {
        return Err(vm.value_error("zero step for randrange()"));
    };
    if !n.is_positive() {
        return Err(vm.value_error("empty range for randrange()"));
    }
    let k = rng(vm, a, |r| r.below(&n))?;
    Ok(Value::from_bigint(istart + istep * k))
}

fn randrange(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let step = a.take_kw("step");
    let stop = a.take_kw("stop");
    let start = a.take_kw("start");
    util::no_kwargs(vm, "randrange", &a)?;
    let start = match start.or_else(|| a.pos.get(1).cloned()) {
        Some(s) => s,
        None => {
            return Err(
                vm.type_error("Random.randrange() missing 1 required positional argument: 'start'")
            )
        }
    };
    let stop = stop.or_else(|| a.pos.get(2).cloned());
    let step = step.or_else(|| a.pos.get(3).cloned());
    if a.pos.len() > 4 {
        return Err(vm.type_error(format!(
            "Random.randrange() takes from 2 to 4 positional arguments but {} were given",
            a.pos.len()
        )));
    }
    randrange_impl(vm, &a, &start, stop.as_ref(), step.as_ref())
}

fn randint(vm: &mut Vm, a: Args) -> PyResult<Value> {
    if a.pos.len() != 3 {
        let missing = 3usize.saturating_sub(a.pos.len());
        if missing > 0 {
            let names = ["'a' and 'b'", "'b'"];
            let which = if missing == 2 { names[0] } else { names[1] };
            return Err(vm.type_error(format!(
                "Random.randint() missing {missing} required positional argument{}: {which}",
                if missing == 1 { "" } else { "s" }
            )));
        }
        return Err(vm.type_error(format!(
            "Random.randint() takes 3 positional arguments but {} were given",
            a.pos.len()
        )));
    }
    let b = int_arg(vm, &a.pos[2], 1)?;
    let stop = Value::from_bigint(b + 1);
    let start = a.pos[1].clone();
    randrange_impl(vm, &a, &start, Some(&stop), None)
}

/// Items of a sequence argument (list, tuple, str, range, or a sequence instance).
fn sequence_items(vm: &mut Vm, v: &Value) -> PyResult<Vec<Value>> {
    ops::collect(vm, v)
}

fn choice(vm: &mut Vm, a: Args) -> PyResult<Value> {
    if a.pos.len() != 2 {
        return Err(vm.type_error(format!(
            "Random.choice() takes 2 positional arguments but {} were given",
            a.pos.len()
        )));
    }
    let seq = &a.pos[1];
    if matches!(seq, Value::Set(_) | Value::FrozenSet(_) | Value::Dict(_)) {
        let n = ops::collect(vm, seq)?.len();
        if n == 0 {
            return Err(vm.index_error("Cannot choose from an empty sequence"));
        }
        let i = rng(vm, &a, |r| r.below_u64(n as u64))?;
        return ops::getitem(vm, seq, &Value::Int(i as i64));
    }
    let n = ops::collect(
        vm,
        &eddy_vm::builtins::payload_value(seq).unwrap_or_else(|| seq.clone()),
    )
    .map(|v| v.len());
    let n = match (seq, n) {
        (Value::List(l), _) => l.borrow().len(),
        (Value::Tuple(t), _) => t.len(),
        (_, Ok(n)) => n,
        (_, Err(e)) => return Err(e),
    };
    if n == 0 {
        return Err(vm.index_error("Cannot choose from an empty sequence"));
    }
    let i = rng(vm, &a, |r| r.below_u64(n as u64))?;
    ops::getitem(vm, seq, &Value::Int(i as i64))
}

fn choices(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let weights = util::arg(&mut a, 2, "weights").filter(|w| !w.is_none());
    let cum = a.take_kw("cum_weights").filter(|w| !w.is_none());
    let k = a.take_kw("k").unwrap_or(Value::Int(1));
    util::no_kwargs(vm, "choices", &a)?;
    let Some(population) = a.pos.get(1).cloned() else {
        return Err(
            vm.type_error("Random.choices() missing 1 required positional argument: 'population'")
        );
    };
    let pop = sequence_items(vm, &population)?;
    let k = util::to_i64(vm, &k)?.max(0) as usize;
    let n = pop.len();
    let cum: Vec<f64> = match (weights, cum) {
        (Some(_), Some(_)) => {
            return Err(vm.type_error("Cannot specify both weights and cumulative weights"))
        }
        (None, None) => {
            if n == 0 {
                return Err(vm.index_error("Cannot choose from an empty sequence"));
            }
            let mut out = Vec::with_capacity(k);
            for _ in 0..k {
                let i = rng(vm, &a, |r| (r.random() * n as f64) as usize)?;
                out.push(pop[i.min(n - 1)].clone());
            }
            return Ok(Value::list(out));
        }
        (Some(w), None) => {
            let ws = ops::collect(vm, &w)?;
            let mut acc = 0.0;
            let mut out = Vec::with_capacity(ws.len());
            for x in &ws {
                acc += to_float(vm, x)?;
                out.push(acc);
            }
            out
        }
        (None, Some(c)) => {
            let cs = ops::collect(vm, &c)?;
            let mut out = Vec::with_capacity(cs.len());
            for x in &cs {
                out.push(to_float(vm, x)?);
            }
            out
        }
    };
    if cum.len() != n {
        return Err(vm.value_error("The number of weights does not match the population"));
    }
    let total = cum.last().copied().unwrap_or(0.0);
    if total <= 0.0 {
        return Err(vm.value_error("Total of weights must be greater than zero"));
    }
    if !total.is_finite() {
        return Err(vm.value_error("Total of weights must be finite"));
    }
    let mut out = Vec::with_capacity(k);
    for _ in 0..k {
        let x = rng(vm, &a, |r| r.random() * total)?;
        // bisect_right over the cumulative weights.
        let i = cum.partition_point(|c| *c <= x).min(n - 1);
        out.push(pop[i].clone());
    }
    Ok(Value::list(out))
}

fn shuffle(vm: &mut Vm, a: Args) -> PyResult<Value> {
    if a.pos.len() != 2 {
        return Err(vm.type_error(format!(
            "Random.shuffle() takes 2 positional arguments but {} were given",
            a.pos.len()
        )));
    }
    let x = a.pos[1].clone();
    let list = match &x {
        Value::List(l) => Some(l.clone()),
        v => match eddy_vm::builtins::payload_value(v) {
            Some(Value::List(l)) => Some(l),
            _ => None,
        },
    };
    if let Some(l) = list {
        let n = l.borrow().len();
        for i in (1..n).rev() {
            let j = rng(vm, &a, |r| r.below_u64(i as u64 + 1))? as usize;
            l.borrow_mut().swap(i, j);
        }
        return Ok(Value::None);
    }
    // Any other mutable sequence: swap through __getitem__/__setitem__.
    let n = ops::collect(vm, &x)?.len();
    for i in (1..n).rev() {
        let j = rng(vm, &a, |r| r.below_u64(i as u64 + 1))? as i64;
        let (vi, vj) = (
            ops::getitem(vm, &x, &Value::Int(i as i64))?,
            ops::getitem(vm, &x, &Value::Int(j))?,
        );
        ops::setitem(vm, &x, Value::Int(i as i64), vj)?;
        ops::setitem(vm, &x, Value::Int(j), vi)?;
    }
    Ok(Value::None)
}

fn sample(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let counts = a.take_kw("counts").filter(|c| !c.is_none());
    let k = util::arg(&mut a, 2, "k");
    util::no_kwargs(vm, "sample", &a)?;
    let Some(population) = a.pos.get(1).cloned() else {
        return Err(vm.type_error(
            "Random.sample() missing 2 required positional arguments: 'population' and 'k'",
        ));
    };
    let Some(k) = k else {
        return Err(vm.type_error("Random.sample() missing 1 required positional argument: 'k'"));
    };
    if matches!(
        population,
        Value::Set(_) | Value::FrozenSet(_) | Value::Dict(_)
    ) {
        return Err(
            vm.type_error("Population must be a sequence.  For dicts or sets, use sorted(d).")
        );
    }
    let mut pop = sequence_items(vm, &population)?;
    if let Some(c) = counts {
        let cs = ops::collect(vm, &c)?;
        if cs.len() != pop.len() {
            return Err(vm.value_error("The number of counts does not match the population"));
        }
        let mut expanded = Vec::new();
        for (item, c) in pop.iter().zip(&cs) {
            let c = util::to_i64(vm, c)?;
            for _ in 0..c.max(0) {
                expanded.push(item.clone());
            }
        }
        pop = expanded;
    }
    let k = util::to_i64(vm, &k)?;
    let n = pop.len();
    if k < 0 || k as usize > n {
        return Err(vm.value_error("Sample larger than population or is negative"));
    }
    let k = k as usize;
    // Partial Fisher-Yates: the first k slots end up a uniform sample in random order.
    for i in 0..k {
        let j = i + rng(vm, &a, |r| r.below_u64((n - i) as u64))? as usize;
        pop.swap(i, j);
    }
    pop.truncate(k);
    Ok(Value::list(pop))
}

fn floats(vm: &mut Vm, a: &Args, name: &str, n: usize) -> PyResult<Vec<f64>> {
    if a.pos.len() != n + 1 {
        return Err(vm.type_error(format!(
            "Random.{name}() takes {} positional arguments but {} were given",
            n + 1,
            a.pos.len()
        )));
    }
    let mut out = Vec::with_capacity(n);
    for v in &a.pos[1..] {
        out.push(to_float(vm, v)?);
    }
    Ok(out)
}

fn uniform(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let x = floats(vm, &a, "uniform", 2)?;
    let r = rng(vm, &a, |r| r.random())?;
    Ok(Value::Float(x[0] + (x[1] - x[0]) * r))
}

fn mu_sigma(vm: &mut Vm, a: &mut Args) -> PyResult<(f64, f64)> {
    let mu = util::arg(a, 1, "mu")
        .map(|v| to_float(vm, &v))
        .transpose()?
        .unwrap_or(0.0);
    let sigma = util::arg(a, 2, "sigma")
        .map(|v| to_float(vm, &v))
        .transpose()?
        .unwrap_or(1.0);
    Ok((mu, sigma))
}

fn gauss(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let (mu, sigma) = mu_sigma(vm, &mut a)?;
    let z = rng(vm, &a, |r| {
        if let Some(z) = r.gauss_next.take() {
            return z;
        }
        let x2pi = r.random() * std::f64::consts::TAU;
        let g2rad = (-2.0 * (1.0 - r.random()).ln()).sqrt();
        r.gauss_next = Some(x2pi.sin() * g2rad);
        x2pi.cos() * g2rad
    })?;
    Ok(Value::Float(mu + z * sigma))
}

fn normal(r: &mut Rng) -> f64 {
    // Kinderman and Monahan's ratio method, as CPython's normalvariate.
    let magic = 4.0 * (-0.5f64).exp() / 2.0f64.sqrt();
    loop {
        let u1 = r.random();
        let u2 = 1.0 - r.random();
        let z = magic * (u1 - 0.5) / u2;
        if z * z / 4.0 <= -u2.ln() {
            return z;
        }
    }
}

fn normalvariate(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let (mu, sigma) = mu_sigma(vm, &mut a)?;
    let z = rng(vm, &a, normal)?;
    Ok(Value::Float(mu + z * sigma))
}

fn lognormvariate(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let x = floats(vm, &a, "lognormvariate", 2)?;
    let z = rng(vm, &a, normal)?;
    Ok(Value::Float((x[0] + z * x[1]).exp()))
}

fn expovariate(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let lambd = match a.pos.get(1) {
        Some(v) => to_float(vm, v)?,
        None => 1.0,
    };
    if lambd == 0.0 {
        return Err(vm.error("ZeroDivisionError", "float division by zero"));
    }
    let r = rng(vm, &a, |r| r.random())?;
    Ok(Value::Float(-(1.0 - r).ln() / lambd))
}

fn triangular(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let low = a
        .pos
        .get(1)
        .map(|v| to_float(vm, v))
        .transpose()?
        .unwrap_or(0.0);
    let high = a
        .pos
        .get(2)
        .map(|v| to_float(vm, v))
        .transpose()?
        .unwrap_or(1.0);
    let u = rng(vm, &a, |r| r.random())?;
    let c = match a.pos.get(3) {
        None | Some(Value::None) => 0.5,
        Some(m) => {
            if high == low {
                return Ok(Value::Float(low));
            }
            (to_float(vm, m)? - low) / (high - low)
        }
    };
    let (mut u, mut c, mut low, mut high) = (u, c, low, high);
    if u > c {
        u = 1.0 - u;
        c = 1.0 - c;
        std::mem::swap(&mut low, &mut high);
    }
    Ok(Value::Float(low + (high - low) * (u * c).sqrt()))
}

fn gamma_variate(r: &mut Rng, alpha: f64) -> f64 {
    // Marsaglia and Tsang's method (with the alpha < 1 boost).
    if alpha < 1.0 {
        let u = r.random();
        return gamma_variate(r, alpha + 1.0) * u.powf(1.0 / alpha);
    }
    let d = alpha - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(r);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = r.random();
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

fn betavariate(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let x = floats(vm, &a, "betavariate", 2)?;
    if x[0] <= 0.0 || x[1] <= 0.0 {
        return Err(vm.value_error("betavariate: alpha and beta must be > 0.0"));
    }
    let (y, z) = rng(vm, &a, |r| (gamma_variate(r, x[0]), gamma_variate(r, x[1])))?;
    Ok(Value::Float(if y == 0.0 { 0.0 } else { y / (y + z) }))
}

fn paretovariate(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let x = floats(vm, &a, "paretovariate", 1)?;
    let u = 1.0 - rng(vm, &a, |r| r.random())?;
    Ok(Value::Float(u.powf(-1.0 / x[0])))
}

fn vonmisesvariate(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let x = floats(vm, &a, "vonmisesvariate", 2)?;
    let (mu, kappa) = (x[0], x[1]);
    let v = rng(vm, &a, |r| {
        if kappa <= 1e-6 {
            return std::f64::consts::TAU * r.random();
        }
        let s = 0.5 / kappa;
        let rr = s + (1.0 + s * s).sqrt();
        let z = loop {
            let u1 = r.random();
            let z = (std::f64::consts::PI * u1).cos();
            let d = z / (rr + z);
            let u2 = r.random();
            if u2 < 1.0 - d * d || u2 <= (1.0 - d) * d.exp() {
                break z;
            }
        };
        let q = 1.0 / rr;
        let f = (q + z) / (1.0 + q * z);
        let u3 = r.random();
        if u3 > 0.5 {
            (mu + f.acos()).rem_euclid(std::f64::consts::TAU)
        } else {
            (mu - f.acos()).rem_euclid(std::f64::consts::TAU)
        }
    })?;
    Ok(Value::Float(v))
}

fn getrandbits(vm: &mut Vm, a: Args) -> PyResult<Value> {
    if a.pos.len() != 2 {
        return Err(vm.type_error(format!(
            "Random.getrandbits() takes exactly one argument ({} given)",
            a.pos.len() - 1
        )));
    }
    let k = util::to_i64(vm, &a.pos[1])?;
    if k < 0 {
        return Err(vm.value_error("number of bits must be non-negative"));
    }
    if k == 0 {
        return Ok(Value::Int(0));
    }
    let n = rng(vm, &a, |r| r.getrandbits(k as u64))?;
    Ok(Value::from_bigint(n))
}

fn randbytes(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let n = match a.pos.get(1) {
        Some(v) => util::to_i64(vm, v)?,
        None => {
            return Err(
                vm.type_error("Random.randbytes() missing 1 required positional argument: 'n'")
            )
        }
    };
    if n < 0 {
        return Err(vm.value_error("negative argument not allowed"));
    }
    let bytes = rng(vm, &a, |r| {
        (0..n).map(|_| r.next_u64() as u8).collect::<Vec<u8>>()
    })?;
    let _ = BigInt::zero();
    Ok(Value::Bytes(Rc::new(bytes)))
}
