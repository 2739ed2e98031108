#!/usr/bin/env python3
"""Collect zone files of BIND's system tests with the origin each is loaded as.
Writes origin<TAB>path lines (paths relative to the system-test root) to stdout and
a summary to stderr."""
import os, re, sys
from collections import defaultdict

root = sys.argv[1]
conf_re = re.compile(r'(named.*\.conf(\.in|\.j2)?$|.*\.conf$|.*\.conf\.in$|.*\.conf\.j2$)')

def strip_comments(s):
    s = re.sub(r'/\*.*?\*/', ' ', s, flags=re.S)
    s = re.sub(r'(?m)//[^\n]*|#[^\n]*', ' ', s)
    s = re.sub(r'\{%.*?%\}|\{#.*?#\}', ' ', s, flags=re.S)
    return s

def zone_blocks(text):
    for m in re.finditer(r'\bzone\s+"([^"]*)"\s*(?:[A-Za-z]+\s*)?\{', text):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            if text[i] == '{': depth += 1
            elif text[i] == '}': depth -= 1
            i += 1
        yield m.group(1), text[m.end():i-1]

def is_text(p):
    try:
        with open(p, 'rb') as f: b = f.read(65536)
    except OSError: return False
    return b'\0' not in b

def soa_origin(p):
    """The apex a file names itself: an absolute SOA owner, or $ORIGIN before an @ SOA."""
    origin = None
    for line in open(p, errors='replace'):
        line = line.split(';')[0].rstrip()
        m = re.match(r'\$ORIGIN\s+(\S+\.)\s*$', line)
        if m: origin = m.group(1); continue
        m = re.match(r'(\S*)\s+(?:\d+\s+)?(?:IN\s+)?(?:\d+\s+)?SOA\b', line, re.I)
        if m:
            owner = m.group(1)
            if owner.endswith('.'): return owner
            if owner in ('@', '') and origin: return origin
            return None
    return None

pairs = {}          # (origin, relpath) -> source ('conf' or 'name')
mapped = set()
skipped = defaultdict(list)
for d, _, files in os.walk(root):
    for fn in files:
        if not conf_re.match(fn): continue
        p = os.path.join(d, fn)
        try: text = strip_comments(open(p, errors='replace').read())
        except OSError: continue
        for name, body in zone_blocks(text):
            fm = re.search(r'\bfile\s+"([^"]+)"', body)
            if not fm: continue
            tm = re.search(r'\btype\s+([a-z-]+)', body)
            ztype = tm.group(1) if tm else 'primary'
            fpath = fm.group(1)
            if '{{' in fpath or '@' in fpath: continue
            if ztype == 'hint':
                continue
            if re.search(r'masterfile-format\s+(raw|map)', body): continue
            cand = os.path.normpath(os.path.join(d, fpath))
            for c in (cand, cand + '.in'):
                if os.path.isfile(c):
                    if not is_text(c): skipped['binary'].append(c); break
                    rel = os.path.relpath(c, root)
                    origin = name if name else '.'
                    pairs.setdefault((origin, rel), ('conf', os.path.relpath(d, root)))
                    mapped.add(rel)
                    break

# origins from the tests' own named-checkzone calls: $CHECKZONE [-opts [arg]] ORIGIN FILE
ck_re = re.compile(r'\$CHECKZONE((?:\s+-[A-Za-z]+(?:\s+(?:fail|warn|ignore|none|local|full|full-sibling|local-sibling|raw|text|map|\d+))?)*)\s+([^\s$>|&;]+)\s+([^\s$>|&;]+)')
for d, _, files in os.walk(root):
    for fn in files:
        if not fn.endswith('.sh'): continue
        for m in ck_re.finditer(open(os.path.join(d, fn), errors='replace').read()):
            opts, origin, f = m.groups()
            if re.search(r'-f\s+(raw|map)', opts) or f.startswith('-'): continue
            for c in (f, f + '.in'):
                fp = os.path.normpath(os.path.join(d, c))
                if os.path.isfile(fp) and is_text(fp):
                    rel = os.path.relpath(fp, root)
                    if rel not in mapped:
                        pairs.setdefault((origin, rel), ('checkzone', os.path.relpath(d, root)))
                        mapped.add(rel)
                    break
# checkzone/tests.sh loops over zones/good*.db and zones/bad*.db with these origins
for fn in sorted(os.listdir(os.path.join(root, 'checkzone/zones'))):
    if re.match(r'(good|bad).*\.db$', fn):
        rel = 'checkzone/zones/' + fn
        if rel in mapped: continue
        o = '0.0.0.0.in-addr.arpa' if fn in ('good-dns-sd-reverse.db', 'bad-dns-sd-reverse.db', 'bad-svcb-servername.db') else 'example'
        pairs.setdefault((o, rel), ('checkzone', 'checkzone')); mapped.add(rel)

exts = ('.db', '.db.in', '.zone', '.zone.in')
for d, _, files in os.walk(root):
    for fn in files:
        if not fn.endswith(exts): continue
        rel = os.path.relpath(os.path.join(d, fn), root)
        if rel in mapped: continue
        if not is_text(os.path.join(d, fn)): skipped['binary'].append(rel); continue
        base = fn
        for e in ('.in', '.db', '.zone'):
            if base.endswith(e): base = base[: -len(e)]
        base = re.sub(r'\.(unsigned|signed|orig|good|bad)$', '', base)
        if base in ('root', ''): base = '.'
        soa = soa_origin(os.path.join(d, fn))
        if soa: base = soa
        pairs.setdefault((base, rel), ('name', os.path.dirname(rel)))

for (o, p), (src, cwd) in sorted(pairs.items(), key=lambda x: x[0][1]):
    print(f"{o}\t{p}\t{cwd or '.'}\t{src}")
files = {p for _, p in pairs}
print(f"pairs={len(pairs)} files={len(files)} from_conf={sum(1 for v in pairs.values() if v[0]=='conf')} "
      f"from_checkzone={sum(1 for v in pairs.values() if v[0]=='checkzone')} from_name={sum(1 for v in pairs.values() if v[0]=='name')} skipped={ {k: len(v) for k, v in skipped.items()} }",
      file=sys.stderr)
