#!/usr/bin/env python3
"""No dependency circles among the modules of one program.

A module is a stem: x.c and x.h are module x. Two kinds of edges:

  --include DIR...   x -> y when x.c or x.h has #include "y.h" and y.h is in
                     one of the DIRs (system and src/ headers are not edges).
  --objects OBJ...   x -> y when x.o uses a symbol that y.o defines (what
                     nm reports): the call graph, which also catches a
                     circle carried by a header both sides include (the old
                     complaintctl.c <-> ctl_*.c one).

Prints every edge with -v, and each circle found; exits 1 if there is one.
Usage: check_circles.py [-v] --include daemon ctl
       check_circles.py [-v] --objects build/.../daemon/*.o
"""
import os
import re
import subprocess
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def include_edges(dirs):
    headers = {}
    for d in dirs:
        for f in os.listdir(d):
            if f.endswith(".h"):
                headers[f] = stem(f)
    edges = {}
    for d in dirs:
        for f in sorted(os.listdir(d)):
            if not f.endswith((".c", ".h")):
                continue
            m = stem(f)
            edges.setdefault(m, set())
            with open(os.path.join(d, f), encoding="utf-8") as fh:
                for inc in INCLUDE.findall(fh.read()):
                    target = headers.get(os.path.basename(inc))
                    if target and target != m:
                        edges[m].add(target)
    return edges


def nm_symbols(obj, undefined):
    flag = "--undefined-only" if undefined else "--defined-only"
    out = subprocess.run(["nm", "-g", flag, obj], check=True, capture_output=True,
                         text=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def object_edges(objs):
    # CMake names objects x.c.o; stem() keeps "x.c", so strip twice.
    module = {o: stem(stem(o)) for o in objs}
    owner = {}
    for o in objs:
        for s in nm_symbols(o, undefined=False):
            owner[s] = module[o]
    edges = {m: set() for m in module.values()}
    for o in objs:
        for s in nm_symbols(o, undefined=True):
            target = owner.get(s)
            if target and target != module[o]:
                edges[module[o]].add(target)
    return edges


def circles(edges):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
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

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main(argv):
    verbose = "-v" in argv
    argv = [a for a in argv if a != "-v"]
    if len(argv) < 2 or argv[0] not in ("--include", "--objects"):
        print(__doc__, file=sys.stderr)
        return 2
    kind, paths = argv[0], argv[1:]
    edges = include_edges(paths) if kind == "--include" else object_edges(paths)
    if verbose:
        for m in sorted(edges):
            print(f"{m} -> {', '.join(sorted(edges[m])) or '(nothing)'}")
    found = circles(edges)
    for comp in found:
        print(f"check_circles {kind[2:]}: a circle among {', '.join(comp)}", file=sys.stderr)
    if not found:
        print(f"check_circles {kind[2:]}: {len(edges)} modules, no circle")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
