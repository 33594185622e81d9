#!/usr/bin/env python3
"""Checks the include rules of scripts/layout_rules.txt over the tree.

Every `#include "..."` of a C++ file that names a file of the tree (or a
generated proto, "reelfarm/v1/...") is an edge from the including file's
folder to the included file's folder. A folder's rule is the line of its
nearest listed ancestor (or itself). An edge its rule does not allow, and a
cycle between folders, fail the check, each printed with the file and line.

  check_layout.py [ROOT]      check the tree at ROOT (default: the repo)
  check_layout.py --self-test check that a bad include and a cycle fail
"""
import os
import re
import sys
import tempfile

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
SOURCES = ('.cc', '.h', '.cpp', '.hpp')
SKIP = {'.git', 'build', 'shared'}


def read_rules(path):
    rules = {}
    for n, line in enumerate(open(path), 1):
        line = line.split('#', 1)[0].strip()
        if not line:
            continue
        folder, _, allowed = line.partition(':')
        if not _:
            sys.exit(f'{path}:{n}: expected "folder: allowed folders"')
        rules[folder.strip()] = allowed.split()
    return rules


def rule_for(folder, rules):
    probe = folder
    while True:
        if probe in rules:
            return probe, rules[probe]
        if '/' not in probe:
            return None, []
        probe = probe.rsplit('/', 1)[0]


def allowed(target, patterns):
    for p in patterns:
        if p == '*' or p == target:
            return True
        if p.endswith('/*') and target.startswith(p[:-1]):
            return True
    return False


def edges_of(root):
    edges = []  # (from_folder, to_folder, file, line, included)
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = [d for d in dirnames
                       if d not in SKIP and not d.startswith(('build', '.'))]
        if rel_dir == '.':
            continue
        for name in filenames:
            if not name.endswith(SOURCES):
                continue
            path = os.path.join(dirpath, name)
            text = open(path, encoding='utf-8', errors='replace').read()
            for m in INCLUDE.finditer(text):
                inc = m.group(1)
                if inc.startswith('reelfarm/v1/'):
                    to = 'protos'
                elif os.path.isfile(os.path.join(root, inc)):
                    to = os.path.dirname(inc)
                else:
                    continue
                if to != rel_dir:
                    line = text.count('\n', 0, m.start()) + 1
                    edges.append((rel_dir, to, os.path.join(rel_dir, name),
                                  line, inc))
    return edges


def find_cycle(graph):
    state = {}
    stack = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def check(root, rules):
    errors = []
    graph = {}
    for src, to, path, line, inc in edges_of(root):
        listed, patterns = rule_for(src, rules)
        if not allowed(to, patterns):
            errors.append(f'{path}:{line}: {src}/ may not include "{inc}" '
                          f'({to}/ is not allowed by the rule for '
                          f'{listed or src}/ in layout_rules.txt)')
        if not src.startswith(('tests', 'bench')):
            graph.setdefault(src, set()).add(to)
    cycle = find_cycle(graph)
    if cycle:
        errors.append('include cycle between folders: ' + ' -> '.join(cycle))
    return errors


def self_test(rules):
    with tempfile.TemporaryDirectory() as root:
        def write(path, text):
            os.makedirs(os.path.dirname(os.path.join(root, path)),
                        exist_ok=True)
            open(os.path.join(root, path), 'w').write(text)
        write('common/log.h', '#pragma once\n')
        write('sweep/job_id.h', '#include "common/log.h"\n')
        if check(root, rules):
            return 'a tree that keeps the rules was refused'
        write('sweep/bad.cc', '#include "node/agent.h"\n')
        write('node/agent.h', '#include "common/log.h"\n')
        errors = check(root, rules)
        if not any('sweep/bad.cc:1' in e for e in errors):
            return 'sweep/ including node/ was not caught'
        os.remove(os.path.join(root, 'sweep/bad.cc'))
        write('node/pipeline/weights/a.h', '#include "node/pipeline/video/b.h"\n')
        write('node/pipeline/video/b.h', '#include "node/pipeline/weights/a.h"\n')
        errors = check(root, dict(rules, **{
            'node/pipeline/weights': ['node/pipeline/video']}))
        if not any('cycle' in e for e in errors):
            return 'a cycle between folders was not caught'
    return None


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    rules = read_rules(os.path.join(here, 'layout_rules.txt'))
    if sys.argv[1:] == ['--self-test']:
        failure = self_test(rules)
        print('layout self-test: ' + (failure or 'ok'))
        return 1 if failure else 0
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(here)
    errors = check(root, rules)
    for e in errors:
        print(e)
    print(f'layout: {len(errors)} problem(s)')
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
