//! `eddy dis`: a listing of a code object and every code object nested in it, laid out like
//! `python3 -m dis` (line, offset, opcode name, operand and what the operand means).

use std::fmt::Write;

use crate::code::Code;
use crate::opcode::Instr;
use crate::value::Value;

pub fn disassemble(code: &Code) -> String {
    let mut out = String::new();
    dis_one(code, &mut out);
    for c in &code.consts {
        if let Value::Code(inner) = c {
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "Disassembly of <code object {}, line {}>:",
                inner.name.s, inner.first_line
            );
            out.push_str(&disassemble(inner));
        }
    }
    out
}

fn describe(code: &Code, ins: &Instr) -> String {
    let name_at = |k: u32| {
        code.names
            .get(k as usize)
            .map(|n| n.s.to_string())
            .unwrap_or_default()
    };
    let local = |s: u32| {
        code.varnames
            .get(s as usize)
            .map(|n| n.s.to_string())
            .unwrap_or_default()
    };
    match *ins {
        Instr::LoadConst(k) => match code.consts.get(k as usize) {
            Some(Value::Code(c)) => format!("<code object {}>", c.name.s),
            Some(Value::Str(s)) => crate::ops::str_repr(&s.s),
            Some(Value::Int(i)) => i.to_string(),
            Some(Value::Float(f)) => crate::ops::float_repr(*f),
            Some(Value::None) => "None".into(),
            Some(Value::Bool(b)) => {
                if *b {
                    "True".into()
                } else {
                    "False".into()
                }
            }
            Some(Value::Tuple(_)) => "(tuple)".into(),
            _ => String::new(),
        },
        Instr::LoadFast(s) | Instr::StoreFast(s) | Instr::DeleteFast(s) | Instr::ReturnFast(s) => {
            local(s)
        }
        Instr::LoadFastLoadFast(ab) => format!("{}, {}", local(ab & 0xffff), local(ab >> 16)),
        Instr::LoadFastBinaryConst(x) => format!(
            "{} {} {}",
            local(x & 0xff),
            crate::ops::OP_SYMBOLS
                .get(((x >> 8) & 15) as usize)
                .unwrap_or(&"?"),
            const_text(code, x >> 12)
        ),
        Instr::LoadFastCompareConst(x) => format!(
            "{} {} {}",
            local(x & 0xff),
            ["==", "!=", "<", "<=", ">", ">="]
                .get(((x >> 8) & 7) as usize)
                .unwrap_or(&"?"),
            const_text(code, x >> 11)
        ),
        Instr::LoadDeref(i)
        | Instr::StoreDeref(i)
        | Instr::DeleteDeref(i)
        | Instr::LoadClosure(i) => {
            let n = code.cellvars.len();
            if (i as usize) < n {
                code.cellvars[i as usize].s.to_string()
            } else {
                code.freevars
                    .get(i as usize - n)
                    .map(|s| s.s.to_string())
                    .unwrap_or_default()
            }
        }
        Instr::LoadGlobal(k)
        | Instr::StoreGlobal(k)
        | Instr::DeleteGlobal(k)
        | Instr::LoadName(k)
        | Instr::StoreName(k)
        | Instr::DeleteName(k)
        | Instr::LoadAttr(k)
        | Instr::StoreAttr(k)
        | Instr::DeleteAttr(k)
        | Instr::LoadMethod(k)
        | Instr::ImportName(k)
        | Instr::ImportFrom(k) => name_at(k),
        Instr::Binary(op) | Instr::InplaceBinary(op) => crate::ops::OP_SYMBOLS
            .get(op as usize)
            .map(|s| s.to_string())
            .unwrap_or_default(),
        Instr::BinaryConst(x) => format!(
            "{} {}",
            crate::ops::OP_SYMBOLS
                .get((x & 15) as usize)
                .unwrap_or(&"?"),
            const_text(code, x >> 4)
        ),
        Instr::CompareConst(x) => format!(
            "{} {}",
            ["==", "!=", "<", "<=", ">", ">="]
                .get((x & 7) as usize)
                .unwrap_or(&"?"),
            const_text(code, x >> 3)
        ),
        Instr::Compare(op) => ["==", "!=", "<", "<=", ">", ">="]
            .get(op as usize)
            .map(|s| s.to_string())
            .unwrap_or_default(),
        ref j if crate::opcode::is_jump(j) => format!("to {}", j.operand().unwrap_or(0)),
        _ => String::new(),
    }
}

fn dis_one(code: &Code, out: &mut String) {
    let mut last_line = 0;
    let targets: Vec<u32> = code
        .instrs
        .iter()
        .filter(|i| crate::opcode::is_jump(i))
        .filter_map(|i| i.operand())
        .chain(code.exception_table.iter().map(|e| e.target))
        .collect();
    for (i, ins) in code.instrs.iter().enumerate() {
        let line = code.line_of(i);
        let line_col = if line != last_line {
            if i > 0 {
                out.push('\n');
            }
            last_line = line;
            format!("{line:>4}")
        } else {
            "    ".into()
        };
        let marker = if targets.contains(&(i as u32)) {
            ">>"
        } else {
            "  "
        };
        let operand = ins.operand().map(|o| o.to_string()).unwrap_or_default();
        let what = describe(code, ins);
        let what = if what.is_empty() {
            String::new()
        } else {
            format!("({what})")
        };
        let _ = writeln!(
            out,
            "{line_col}   {marker} {:>4} {:<20} {:>4} {}",
            i,
            ins.name(),
            operand,
            what
        )
        .map(|_| ());
    }
    if !code.exception_table.is_empty() {
        let _ = writeln!(out, "ExceptionTable:");
        for e in &code.exception_table {
            let _ = writeln!(
                out,
                "  {} to {} -> {} [{}]",
                e.start, e.end, e.target, e.depth
            );
        }
    }
    // Trim trailing spaces from lines without an operand description.
    let trimmed: String = out
        .lines()
        .map(|l| l.trim_end())
        .collect::<Vec<_>>()
        .join("\n");
    *out = trimmed;
    out.push('\n');
}

fn const_text(code: &Code, k: u32) -> String {
    match code.consts.get(k as usize) {
        Some(Value::Int(i)) => i.to_string(),
        Some(Value::Float(f)) => crate::ops::float_repr(*f),
        Some(Value::Str(s)) => crate::ops::str_repr(&s.s),
        Some(Value::None) => "None".into(),
        _ => "...".into(),
    }
}
