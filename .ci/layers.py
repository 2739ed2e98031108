#!/usr/bin/env python3
"""Check that the top-level modules of a Rust crate import each other only downward.

Usage:
    python3 layers.py SRC_DIR [--order LAYERS] [--graph] [--tests]

SRC_DIR is the crate's `src/` folder. A *module* here is a top-level entry of
SRC_DIR: a folder (`src/wire/`) or a file (`src/config.rs`, `src/main.rs`).

LAYERS is the intended order, lowest first, one layer per space-separated word;
modules that share a layer are joined by commas. It defaults to zonal's order,
ORDER below (a name in it that is not a module yet is allowed):

    wire tsig exchange metrics auth,zonefile,sign,journal
    recursive,update,transfer server config net ops app main

An import is any path that names another top-level module: `crate::X`,
`super::...` climbing out of the module, and `CRATE::X` in a binary's root
(`main.rs`, where the library is reached by its crate name, read from
`../Cargo.toml`). Comments and string literals are skipped. Code under
`#[cfg(test)]` is skipped unless `--tests` is given (test code may lean on a
higher layer to build fixtures; production code may not).

Reported as violations (and the exit status is 1):
  * an import from a module to one in a higher layer;
  * a cycle between modules (also between modules that share a layer);
  * a module that is not in LAYERS (so the order cannot go stale silently).

--graph also prints the whole graph: for each edge, the number of files and one
example line.

The script has no dependencies beyond the Python 3 standard library.
"""

import argparse
import os
import re
import sys

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"

# zonal's layers, lowest first; peers (which may import each other, without a
# cycle) joined by commas.
ORDER = (
    "wire tsig exchange metrics auth,zonefile,sign,journal "
    "recursive,update,transfer server config net ops app main"
)


def blank_comments_and_strings(text):
    """Return text with comments and string/char literals replaced by spaces.

    Newlines are kept so that line numbers stay right.
    """
    out = []
    i, n = 0, len(text)

    def blank(s):
        return re.sub(r"[^\n]", " ", s)

    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "/" and nxt == "/":
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(blank(text[i:j]))
            i = j
        elif c == "/" and nxt == "*":
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(blank(text[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:]) and not re.match(r"[A-Za-z0-9_]", text[i - 1] if i else " "):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = text.find('"' + hashes, i + 2 + len(hashes))
            j = n if end < 0 else end + 1 + len(hashes)
            out.append(blank(text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(blank(text[i : j + 1]))
            i = j + 1
        elif c == "'":
            # A char literal ('a', '\n', '\u{1F600}') or a lifetime ('a).
            m = re.match(r"'(\\[^']*|[^\\'])'", text[i:])
            if m:
                out.append(blank(m.group(0)))
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def module_path(src, path):
    """The module path of a file: src/a/b.rs -> [a, b]; src/a/mod.rs -> [a]."""
    rel = os.path.relpath(path, src)[: -len(".rs")].split(os.sep)
    if rel[-1] == "mod":
        rel = rel[:-1]
    if rel in (["lib"], ["main"]):
        return []
    return rel


def top_of(src, path):
    """The top-level module that a file belongs to."""
    return os.path.relpath(path, src).split(os.sep)[0].removesuffix(".rs")


TOKEN = re.compile(
    r"#\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]"  # test attribute
    r"|#\s*!?\s*\[[^\]]*\]"  # any other attribute
    r"|\bmod\s+(" + IDENT + r")\s*([;{])"  # module declaration
    r"|((?:\b" + IDENT + r"\s*::\s*)+)"  # a path prefix: a::b::
    r"|[{};]"
)


def scan(src, path, crate_name, test_files):
    """Yield (line number, line, target module, is_test) for every path that leaves the module.

    Also adds to test_files the files of modules declared under #[cfg(test)].
    """
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    text = blank_comments_and_strings(raw)
    lines = raw.splitlines()
    base = module_path(src, path)
    own = top_of(src, path)
    is_root = base == []
    is_bin = os.path.relpath(path, src) == "main.rs"
    file_is_test = path in test_files

    # Stack of open braces: (inline module name or None, opened under cfg(test)).
    stack = []
    pending_test = False  # a #[cfg(test)] is waiting for the item it applies to
    for m in TOKEN.finditer(text):
        tok = m.group(0)
        in_test = file_is_test or any(t for _, t in stack)
        if tok.startswith("#"):
            if re.match(r"#\s*\[\s*cfg\s*\(\s*test", tok):
                pending_test = True
            continue
        if m.group(1):  # mod NAME ; or {
            name, end = m.group(1), m.group(2)
            if end == ";":
                if pending_test or in_test:
                    d = os.path.dirname(path)
                    stem = os.path.basename(path)[:-3]
                    if stem not in ("mod", "lib", "main"):
                        d = os.path.join(d, stem)
                    for cand in (os.path.join(d, name + ".rs"), os.path.join(d, name, "mod.rs")):
                        test_files.add(cand)
                pending_test = False
            else:
                stack.append((name, pending_test))
                pending_test = False
            continue
        if tok == "{":
            stack.append((None, pending_test))
            pending_test = False
            continue
        if tok == "}":
            if stack:
                stack.pop()
            continue
        if tok == ";":
            pending_test = False
            continue
        # A path prefix.
        if m.start() > 0 and text[m.start() - 1] == ":":
            continue  # the middle of a longer path (`::std::x`)
        segs = [s.strip() for s in tok.split("::") if s.strip()]
        head = segs[0]
        if is_bin and head == "crate":
            continue  # the binary's own modules
        if head == "crate" or (is_bin and head == crate_name):
            rest = segs[1:]
        elif head == "super":
            here = base + [name for name, _ in stack if name]
            ups = 0
            while ups < len(segs) and segs[ups] == "super":
                ups += 1
            if ups < len(here):
                continue  # stays inside the top-level module
            rest = segs[ups:]
        elif head == "self" and is_root and not is_bin:
            rest = segs[1:]
        else:
            continue
        targets = rest[:1] or group_heads(text, m.end())
        lineno = text.count("\n", 0, m.start()) + 1
        for target in targets:
            if target != own:
                yield lineno, lines[lineno - 1].strip(), target, in_test or pending_test


def group_heads(text, at):
    """The first segment of each path in a `{a::x, b}` group starting at `at`."""
    if at >= len(text) or text[at] != "{":
        return []
    depth, j = 0, at
    while j < len(text):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            break
        j += 1
    heads, depth, item = [], 0, ""
    for c in text[at + 1 : j] + ",":
        if c in "{":
            depth += 1
        elif c == "}":
            depth -= 1
        if c == "," and depth == 0:
            m = re.match(r"\s*(" + IDENT + r")", item)
            if m and m.group(1) not in ("self", "super", "crate"):
                heads.append(m.group(1))
            item = ""
        else:
            item += c
    return heads


def rust_files(src):
    for d, dirs, files in os.walk(src):
        dirs.sort()
        for f in sorted(files):
            if f.endswith(".rs"):
                yield os.path.join(d, f)


def crate_name_of(src):
    cargo = os.path.join(os.path.dirname(os.path.abspath(src)), "Cargo.toml")
    try:
        with open(cargo, encoding="utf-8") as f:
            m = re.search(r'^\s*name\s*=\s*"([^"]+)"', f.read(), re.M)
            if m:
                return m.group(1).replace("-", "_")
    except OSError:
        pass
    return None


def find_cycles(edges):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    nodes = sorted({a for a, _ in edges} | {b for _, b in edges})
    succ = {v: sorted(b for a, b in edges if a == v) for v in nodes}

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in nodes:
        if v not in index:
            visit(v)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", help="the crate's src/ folder")
    ap.add_argument("--order", default=ORDER, help="layers, lowest first; peers joined by commas")
    ap.add_argument("--graph", action="store_true", help="print the module graph")
    ap.add_argument("--tests", action="store_true", help="also count #[cfg(test)] code")
    args = ap.parse_args()

    src = os.path.normpath(args.src)
    crate_name = crate_name_of(src)
    files = list(rust_files(src))
    test_files = set()
    # First find the files that are test-only modules (to a fixed point: a test
    # module may declare more of them).
    while True:
        known = len(test_files)
        for path in files:
            for _ in scan(src, path, crate_name, test_files):
                pass
        if len(test_files) == known:
            break
    imports = {}  # (from, to) -> [(file, line, text)]
    for path in files:
        for lineno, line, target, is_test in scan(src, path, crate_name, test_files):
            if is_test and not args.tests:
                continue
            rel = os.path.relpath(path, os.path.dirname(os.path.abspath(src)))
            imports.setdefault((top_of(src, path), target), []).append((rel, lineno, line))

    modules = sorted({top_of(src, p) for p in files if args.tests or p not in test_files})
    edges = set(imports)
    bad = 0

    if args.graph:
        print("imports between top-level modules (files, one example):")
        for (a, b), sites in sorted(imports.items()):
            nfiles = len({f for f, _, _ in sites})
            f, ln, text = next((x for x in sites if x[2].startswith(("use ", "pub use "))), sites[0])
            print(f"  {a:10} -> {b:10} {nfiles:3} file(s)  {f}:{ln}: {text}")
        print()

    if args.order:
        rank = {}
        for i, layer in enumerate(args.order.split()):
            for name in layer.split(","):
                rank[name.removesuffix(".rs").rstrip("/")] = i
        for mod in modules:
            if mod not in rank and mod != "lib":
                print(f"not in the layer order: {mod}")
                bad += 1
        for (a, b), sites in sorted(imports.items()):
            if a in rank and b in rank and rank[b] > rank[a]:
                print(f"upward: {a} (layer {rank[a]}) -> {b} (layer {rank[b]})")
                for f, ln, text in sites:
                    print(f"    {f}:{ln}: {text}")
                bad += len(sites)

    # lib.rs declares every module; its `pub mod` lines are not imports.
    for comp in find_cycles({e for e in edges if "lib" not in e}):
        print("cycle: " + " <-> ".join(comp))
        for a in comp:
            for b in comp:
                for f, ln, text in imports.get((a, b), [])[:3]:
                    print(f"    {a} -> {b}  {f}:{ln}: {text}")
        bad += 1

    if bad:
        print(f"{bad} violation(s)")
        return 1
    print("ok: no upward import, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
