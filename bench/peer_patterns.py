#!/usr/bin/python3
"""Convert the pack's exported patterns for the grep peers.

    peer_patterns.py PATTERNS.tsv OUTDIR

PATTERNS.tsv holds "rule_id<TAB>regex" lines (complaintctl rules export): byte
patterns over canonical text in Hyperscan's PCRE dialect, non-ASCII bytes as
\\xHH escapes, groups as (?:...), gaps as [^ ] classes and {m,n} repeats.

Writes OUTDIR/rg.txt (Rust regex syntax: the bytes decoded back to UTF-8
characters, since ripgrep's \\xHH means a code point) and OUTDIR/grep.txt
(POSIX ERE for `grep -E` in the C locale: (?:...) becomes (...), literal bytes
raw). Prints a JSON summary: patterns read, converted for each tool, refused
with the reasons.
"""
import json
import re
import sys

ERE_SPECIAL = set('.[]()*+?{}|^$\\')
RUST_SPECIAL = set('.[]()*+?{}|^$\\#&-~')


def tokens(p):
    """Yield ('lit', byte) or ('meta', text) tokens of a pack pattern."""
    i = 0
    while i < len(p):
        c = p[i]
        if c == '\\' and p[i + 1:i + 2] == 'x':
            yield 'lit', int(p[i + 2:i + 4], 16)
            i += 4
        elif c == '\\':
            yield 'lit', ord(p[i + 1])
            i += 2
        elif c == '[':
            j = p.index(']', i + 1 if p[i + 1] != '^' else i + 2)
            yield 'meta', p[i:j + 1]
            i = j + 1
        elif c == '{':
            j = p.index('}', i)
            yield 'meta', p[i:j + 1]
            i = j + 1
        elif p.startswith('(?:', i):
            yield 'meta', '(?:'
            i += 3
        elif c in '()|*+?.^$':
            yield 'meta', c
            i += 1
        else:
            yield 'lit', ord(c)
            i += 1


def convert(p, dialect):
    out, lit = [], bytearray()

    def flush():
        if not lit:
            return
        s = bytes(lit).decode('utf-8')  # raises on a split character
        special = ERE_SPECIAL if dialect == 'ere' else RUST_SPECIAL
        out.append(''.join('\\' + ch if ch in special else ch for ch in s))
        lit.clear()

    for kind, v in tokens(p):
        if kind == 'lit':
            lit.append(v)
            continue
        flush()
        if v == '(?:' and dialect == 'ere':
            v = '('
        out.append(v)
    flush()
    return ''.join(out)


def main():
    src, outdir = sys.argv[1], sys.argv[2]
    pats = []
    with open(src, encoding='utf-8', errors='surrogateescape') as f:
        for line in f:
            line = line.rstrip('\n')
            if line:
                pats.append(line.split('\t', 1)[-1])
    summary = {'patterns': len(pats)}
    for dialect, name in (('rust', 'rg'), ('ere', 'grep')):
        ok, refused = [], {}
        for p in pats:
            try:
                ok.append(convert(p, dialect))
            except (UnicodeDecodeError, ValueError, IndexError) as e:
                refused[type(e).__name__] = refused.get(type(e).__name__, 0) + 1
        if dialect == 'ere':
            # grep's ERE has no lazy or possessive quantifiers, no \w...: refuse what is left
            good = []
            for q in ok:
                if re.search(r'\(\?|\\[wWsSdDb]', q):
                    refused['unsupported syntax'] = refused.get('unsupported syntax', 0) + 1
                else:
                    good.append(q)
            ok = good
        with open(f'{outdir}/{name}.txt', 'w', encoding='utf-8') as f:
            f.write(''.join(q + '\n' for q in ok))
        summary[name] = {'converted': len(ok), 'refused': refused}
    print(json.dumps(summary))


if __name__ == '__main__':
    main()
