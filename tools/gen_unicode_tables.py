#!/usr/bin/python3
"""Generate src/text/unicode_tables.c from the Unicode Character Database.

    /usr/bin/python3 tools/gen_unicode_tables.py [--ucd /usr/share/unicode] [--out src/text/unicode_tables.c]

Source: Debian's `unicode-data` package (UCD 15.0.0 on Debian 12).

Which Unicode version each table follows, and why: the reference tokenizer is OpenAI's
SimpleTokenizer run by Python 3.11 with the `regex` module (2022.10.31 on Debian 12).
  * letter (\\p{L}), number (\\p{N}) and regex whitespace (\\s) are matched by `regex`, whose own
    tables are Unicode 15.0: taken from the UCD as it is.
  * str.lower(), str.strip()/isspace(), the Final_Sigma context (Cased, Case_Ignorable), NFC
    and NFD (unicodedata.normalize) and `re`'s \\d (used by ftfy) come from Python's own database,
    Unicode 14.0: code points that DerivedAge.txt dates 15.0 are left out of those tables
    (unassigned to Python 3.11: no case mapping, no decomposition, class 0).
Chinese-CLIP's BERT tokenizer (cn_clip, run by Python 3.11) also asks unicodedata.category for
Cc/Cf (dropped), Mn (accents stripped after NFD) and P* (punctuation split): those three tables
are Python-side too, Unicode 14.0 (a code point new in 15.0 is Cn to Python 3.11).
When run by a Python whose unicodedata is 14.0, the script checks every code point of the
Python-side tables against Python itself, and (if `regex` is installed) the regex-side tables
against `regex`; a mismatch stops it.
"""

import argparse
import os
import sys
import unicodedata

PY_MAX_AGE = (14, 0)


def parse_ranges(path, want_field=None):
    """Yields (first, last, fields) of a UCD property file (code or a..b; fields)."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = [p.strip() for p in line.split(";")]
            cps = parts[0]
            if ".." in cps:
                a, b = cps.split("..")
                first, last = int(a, 16), int(b, 16)
            else:
                first = last = int(cps, 16)
            yield first, last, parts[1:]


def load_unicode_data(path):
    """{cp: fields} for every assigned code point (ranges expanded)."""
    data = {}
    pending = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split(";")
            cp = int(fields[0], 16)
            name = fields[1]
            if name.endswith(", First>"):
                pending = cp
                continue
            if name.endswith(", Last>"):
                for c in range(pending, cp + 1):
                    data[c] = fields
                pending = None
                continue
            data[cp] = fields
    return data


def ranges_of(cps):
    """Sorted list of (first, last) covering the set cps."""
    out = []
    for c in sorted(cps):
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return out


def emit_ranges(w, name, cps, comment):
    r = ranges_of(cps)
    w(f"/* {comment}: {len(cps)} code points in {len(r)} ranges. */\n")
    w(f"const clipvk_urange {name}[] = {{\n")
    for i in range(0, len(r), 6):
        w("    " + " ".join(f"{{0x{a:X}, 0x{b:X}}}," for a, b in r[i:i + 6]) + "\n")
    w(f"}};\nconst uint32_t {name}_count = {len(r)};\n\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--ucd", default="/usr/share/unicode")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "src", "text",
                                                  "unicode_tables.c"))
    args = ap.parse_args()
    ucd = args.ucd
    if not os.path.exists(os.path.join(ucd, "UnicodeData.txt")):
        sys.exit(f"{ucd}/UnicodeData.txt not found: install the Debian package 'unicode-data'")

    ud = load_unicode_data(os.path.join(ucd, "UnicodeData.txt"))
    with open(os.path.join(ucd, "DerivedAge.txt"), encoding="utf-8") as f:
        ucd_version = f.readline().strip("# \n").replace("DerivedAge-", "").replace(".txt", "")
    age = {}
    for a, b, f in parse_ranges(os.path.join(ucd, "DerivedAge.txt")):
        v = tuple(int(x) for x in f[0].split("."))
        for c in range(a, b + 1):
            age[c] = v

    def in_py(c):
        return c in age and age[c] <= PY_MAX_AGE

    core = {"Cased": set(), "Case_Ignorable": set()}
    for a, b, f in parse_ranges(os.path.join(ucd, "DerivedCoreProperties.txt")):
        if f[0] in core:
            core[f[0]].update(c for c in range(a, b + 1) if in_py(c))
    white_space = set()
    for a, b, f in parse_ranges(os.path.join(ucd, "PropList.txt")):
        if f[0] == "White_Space":
            white_space.update(range(a, b + 1))
    full_excl = set()
    for a, b, f in parse_ranges(os.path.join(ucd, "DerivedNormalizationProps.txt")):
        if f[0] == "Full_Composition_Exclusion":
            full_excl.update(range(a, b + 1))

    letter, number, py_space, decimal = set(), set(), set(), set()
    control, mark_mn, punct = set(), set(), set()
    lower, ccc, decomp = {}, {}, {}
    for c, f in ud.items():
        gc, cc, bidi, dec, dig, low = f[2], int(f[3]), f[4], f[5], f[6], f[13]
        if gc[0] == "L":
            letter.add(c)
        if gc[0] == "N":
            number.add(c)
        if not in_py(c):
            continue
        if bidi in ("WS", "B", "S") or gc == "Zs":
            py_space.add(c)
        if gc == "Nd":
            decimal.add(c)
        if gc in ("Cc", "Cf"):
            control.add(c)
        if gc == "Mn":
            mark_mn.add(c)
        if gc[0] == "P":
            punct.add(c)
        if low:
            lower[c] = int(low, 16)
        if cc:
            ccc[c] = cc
        if dec and not dec.startswith("<"):
            decomp[c] = [int(x, 16) for x in dec.split()]
    # SpecialCasing: Python applies the unconditional full mappings (and hard-codes Final_Sigma).
    lower_multi = {}
    for a, b, f in parse_ranges(os.path.join(ucd, "SpecialCasing.txt")):
        cond = f[3].strip() if len(f) > 3 else ""
        if cond or not in_py(a):
            continue
        low = [int(x, 16) for x in f[0].split()]
        if low != [a] and low != [lower.get(a, a)]:
            lower_multi[a] = low
    for c in lower_multi:
        lower.pop(c, None)
    assert len(lower_multi) == 1 and lower_multi[0x130] == [0x69, 0x307], lower_multi

    compose = []
    for c, d in decomp.items():
        if len(d) == 2 and c not in full_excl:
            compose.append((d[0], d[1], c))
    compose.sort()

    # ftfy's fix_character_width: U+3000 -> space, U+FF01..U+FFEF -> NFKC of the character
    # (Python's NFKC, as ftfy builds it at import time).
    width = {0x3000: [0x20]}
    for c in range(0xFF01, 0xFFF0):
        alt = unicodedata.normalize("NFKC", chr(c))
        if alt != chr(c):
            assert len(alt) <= 2, hex(c)  # U+FFE3 FULLWIDTH MACRON is space + U+0304
            width[c] = [ord(x) for x in alt]

    check_against_python(letter, number, white_space, py_space, decimal, core, lower, lower_multi, ccc,
                         decomp, compose, {"Cc/Cf": control, "Mn": mark_mn, "P": punct})

    # Lowercase mapping as runs: (first, last, delta, stride) with stride 1 or 2.
    runs = []
    for c in sorted(lower):
        d = lower[c] - c
        if runs:
            r = runs[-1]
            stride = c - r[1]
            if r[2] == d and stride in (1, 2) and (r[0] == r[1] or r[3] == stride):
                r[1], r[3] = c, stride
                continue
        runs.append([c, c, d, 1])
    ccc_runs = []
    for c in sorted(ccc):
        if ccc_runs and ccc_runs[-1][1] == c - 1 and ccc_runs[-1][2] == ccc[c]:
            ccc_runs[-1][1] = c
        else:
            ccc_runs.append([c, c, ccc[c]])

    out = []
    w = out.append
    w("/* Generated by tools/gen_unicode_tables.py from the Unicode Character Database\n"
      f" * {ucd_version} (Debian's unicode-data). Do not edit: rerun the script.\n"
      " *\n"
      " * Letter, number and white-space classes follow the `regex` module (Unicode 15.0);\n"
      " * everything Python's own str/unicodedata does (lower, isspace, Cased, Case_Ignorable,\n"
      " * decimal digits, NFC/NFD, the Cc/Cf, Mn and P* categories) follows Python 3.11's\n"
      " * Unicode 14.0: code points new in 15.0 are left out of those tables. See the script\n"
      " * for details. */\n"
      '#include "text/unicode.h"\n\n')
    emit_ranges(w, "clipvk_u_letter", letter, "regex \\p{L} (general category L*), Unicode 15.0")
    emit_ranges(w, "clipvk_u_number", number, "regex \\p{N} (general category N*), Unicode 15.0")
    emit_ranges(w, "clipvk_u_regex_space", white_space, "regex \\s (the White_Space property)")
    emit_ranges(w, "clipvk_u_py_space", py_space, "Python str.isspace (bidi WS/B/S or Zs), Unicode 14.0")
    emit_ranges(w, "clipvk_u_decimal", decimal, "Python re \\d (general category Nd), Unicode 14.0")
    emit_ranges(w, "clipvk_u_cased", core["Cased"], "Cased, Unicode 14.0")
    emit_ranges(w, "clipvk_u_case_ignorable", core["Case_Ignorable"], "Case_Ignorable, Unicode 14.0")
    emit_ranges(w, "clipvk_u_control", control, "general category Cc or Cf, Unicode 14.0")
    emit_ranges(w, "clipvk_u_mark_mn", mark_mn, "general category Mn, Unicode 14.0")
    emit_ranges(w, "clipvk_u_punct", punct, "general category P*, Unicode 14.0")

    w(f"/* Simple lowercase mappings, Unicode 14.0: {len(lower)} code points in {len(runs)} runs\n"
      " * {first, last, delta, stride}: every stride-th code point from first maps to itself + delta.\n"
      " * U+0130 (the one unconditional multi-character lowercase) is handled in code. */\n")
    w("const clipvk_ucase_run clipvk_u_lower[] = {\n")
    for i in range(0, len(runs), 4):
        w("    " + " ".join(f"{{0x{a:X}, 0x{b:X}, {d}, {s}}}," for a, b, d, s in runs[i:i + 4]) + "\n")
    w(f"}};\nconst uint32_t clipvk_u_lower_count = {len(runs)};\n\n")

    w(f"/* Canonical combining classes, Unicode 14.0: {len(ccc_runs)} runs {{first, last, class}}. */\n")
    w("const clipvk_uccc_run clipvk_u_ccc[] = {\n")
    for i in range(0, len(ccc_runs), 5):
        w("    " + " ".join(f"{{0x{a:X}, 0x{b:X}, {k}}}," for a, b, k in ccc_runs[i:i + 5]) + "\n")
    w(f"}};\nconst uint32_t clipvk_u_ccc_count = {len(ccc_runs)};\n\n")

    dk = sorted(decomp)
    w(f"/* Canonical decompositions (one level; apply recursively), Unicode 14.0, Hangul excluded:\n"
      f" * {len(dk)} entries {{code point, first, second or 0}}. */\n")
    w("const clipvk_udecomp clipvk_u_decomp[] = {\n")
    for i in range(0, len(dk), 5):
        w("    " + " ".join("{0x%X, 0x%X, 0x%X}," % (c, decomp[c][0], decomp[c][1] if len(decomp[c]) > 1 else 0)
                            for c in dk[i:i + 5]) + "\n")
    w(f"}};\nconst uint32_t clipvk_u_decomp_count = {len(dk)};\n\n")

    w(f"/* Canonical compositions (pairs not excluded by Full_Composition_Exclusion), sorted by\n"
      f" * (first, second): {len(compose)} entries {{first, second, composite}}. */\n")
    w("const clipvk_udecomp clipvk_u_compose[] = {\n")
    for i in range(0, len(compose), 5):
        w("    " + " ".join("{0x%X, 0x%X, 0x%X}," % t for t in compose[i:i + 5]) + "\n")
    w(f"}};\nconst uint32_t clipvk_u_compose_count = {len(compose)};\n\n")

    wk = sorted(width)
    w(f"/* ftfy's fix_character_width: U+3000 and the NFKC forms of U+FF01..U+FFEF, {len(wk)} entries\n"
      " * {code point, first, second or 0}. */\n")
    w("const clipvk_udecomp clipvk_u_width[] = {\n")
    for i in range(0, len(wk), 5):
        w("    " + " ".join("{0x%X, 0x%X, 0x%X}," % (c, width[c][0], width[c][1] if len(width[c]) > 1 else 0)
                            for c in wk[i:i + 5]) + "\n")
    w(f"}};\nconst uint32_t clipvk_u_width_count = {len(wk)};\n")

    with open(args.out, "w", encoding="utf-8") as f:
        f.write("".join(out))
    print(f"wrote {args.out}: letter {len(letter)}, number {len(number)}, lower {len(runs)} runs, "
          f"ccc {len(ccc_runs)} runs, decomp {len(dk)}, compose {len(compose)}")


def check_against_python(letter, number, white_space, py_space, decimal, core, lower, lower_multi, ccc,
                         decomp, compose, categories):
    """Every Python-side table against Python itself; regex-side ones against `regex`."""
    if unicodedata.unidata_version != "14.0.0":
        print(f"note: Python's unicodedata is {unicodedata.unidata_version}, not 14.0.0: "
              "the Python-side tables are not cross-checked", file=sys.stderr)
    else:
        bad = []
        for c in range(0x110000):
            ch = chr(c)
            if 0xD800 <= c <= 0xDFFF:
                continue
            want = ch.lower()
            got = "".join(map(chr, lower_multi[c])) if c in lower_multi else chr(lower.get(c, c))
            if c == 0x3A3:
                got = "\u03c3"  # Final_Sigma is handled in code; "Σ".lower() alone is σ
            if want != got:
                bad.append(("lower", hex(c)))
            if ch.isspace() != (c in py_space):
                bad.append(("isspace", hex(c)))
            if ch.isdecimal() != (c in decimal):
                bad.append(("decimal", hex(c)))
            gc = unicodedata.category(ch)
            for name, cps in categories.items():
                if (gc in ("Cc", "Cf") if name == "Cc/Cf" else gc.startswith(name)) != (c in cps):
                    bad.append((name, hex(c)))
            if unicodedata.combining(ch) != ccc.get(c, 0):
                bad.append(("ccc", hex(c)))
            d = unicodedata.decomposition(ch)
            if not (0xAC00 <= c <= 0xD7A3):
                mine = " ".join("%04X" % x for x in decomp.get(c, []))
                if (d if not d.startswith("<") else "") != mine:
                    bad.append(("decomp", hex(c)))
            # Final_Sigma behaviour probes (see handle_capital_sigma in CPython).
            ign, cased = c in core["Case_Ignorable"], c in core["Cased"]
            if ("A\u03a3" + ch).lower()[1] != ("\u03c3" if cased and not ign else "\u03c2"):
                bad.append(("sigma-after", hex(c)))
            if (ch + "\u03a3").lower()[-1] != ("\u03c2" if cased and not ign else "\u03c3"):
                bad.append(("sigma-before", hex(c)))
            if len(bad) > 20:
                break
        for a, b, c in compose:
            if unicodedata.normalize("NFC", chr(a) + chr(b)) != chr(c):
                bad.append(("compose", hex(c)))
        if bad:
            sys.exit(f"tables disagree with Python {sys.version.split()[0]}: {bad[:20]}")
        print("checked against Python's str and unicodedata (Unicode 14.0): identical", file=sys.stderr)
    try:
        import regex
    except ImportError:
        print("note: the regex module is not installed: letter/number/\\s not cross-checked", file=sys.stderr)
        return
    pl, pn, ps = regex.compile(r"\p{L}"), regex.compile(r"\p{N}"), regex.compile(r"\s")
    for c in range(0x110000):
        ch = chr(c)
        if (bool(pl.match(ch)) != (c in letter) or bool(pn.match(ch)) != (c in number)
                or bool(ps.match(ch)) != (c in white_space)):
            sys.exit(f"tables disagree with regex {regex.__version__} at U+{c:04X}")
    print(f"checked against regex {regex.__version__}: identical", file=sys.stderr)


if __name__ == "__main__":
    main()
