#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spikequant authors
# SPDX-License-Identifier: MIT
"""Every C++ snippet in README.md and docs/*.md is a copy of a region of a compiled source.

A doc snippet is a fenced block (```cpp, ```c++, ```cuda) preceded by a marker line

    <!-- snippet: test/cpu/readme_snippet_test.cpp readme-usage -->

and the source (a test or an example, listed in its folder's CMakeLists.txt) holds the region
between two identical marker lines (CUB style):

    // [readme-usage]
    ...the code the doc shows...
    // [readme-usage]

The check fails when a C++ block has no marker, a marker names a missing file, region or a
source no CMakeLists.txt compiles, or the block differs from the region (common indentation
removed). `--fix` rewrites the doc blocks from the sources instead.

    scripts/check-snippets.py          # check (scripts/test.sh runs this)
    scripts/check-snippets.py --fix    # copy the regions into the docs
"""
import difflib
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
FENCE_OPEN = re.compile(r"^```\s*(cpp|c\+\+|cuda|cu)\s*$", re.IGNORECASE)
MARKER = re.compile(r"^<!--\s*snippet:\s*(\S+)\s+(\S+)\s*-->\s*$")


def doc_files():
    yield ROOT / "README.md"
    yield from sorted((ROOT / "docs").glob("*.md"))


def dedent(lines):
    indents = [len(l) - len(l.lstrip(" ")) for l in lines if l.strip()]
    cut = min(indents, default=0)
    return [l[cut:] if l.strip() else "" for l in lines]


def region(path, name):
    """The lines between the two `// [name]` markers of `path`, dedented; or an error string."""
    source = ROOT / path
    if not source.is_file():
        return None, f"{path} does not exist"
    cmake = source.parent / "CMakeLists.txt"
    if not cmake.is_file() or source.name not in cmake.read_text():
        return None, f"{path} is not compiled (not named in {cmake.relative_to(ROOT)})"
    lines = source.read_text().splitlines()
    tag = f"// [{name}]"
    at = [i for i, l in enumerate(lines) if l.strip() == tag]
    if len(at) != 2:
        return None, f"{path}: expected exactly two '{tag}' lines, found {len(at)}"
    return dedent(lines[at[0] + 1 : at[1]]), None


def check_file(doc, fix):
    """Returns the problems found in `doc` (and rewrites it when fix is set)."""
    rel = doc.relative_to(ROOT)
    lines = doc.read_text().splitlines()
    problems = []
    out = []
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        if not FENCE_OPEN.match(line):
            i += 1
            continue
        end = i + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if end == len(lines):
            problems.append(f"{rel}:{i + 1}: unterminated code block")
            out.extend(lines[i + 1 :])
            break
        block = lines[i + 1 : end]
        prev = next((l for l in reversed(lines[:i]) if l.strip()), "")
        m = MARKER.match(prev.strip())
        if not m:
            problems.append(
                f"{rel}:{i + 1}: C++ block without '<!-- snippet: PATH NAME -->' before it "
                "(every C++ snippet must come from a compiled test or example)"
            )
            out.extend(block)
        else:
            want, err = region(m.group(1), m.group(2))
            if err:
                problems.append(f"{rel}:{i + 1}: {err}")
                out.extend(block)
            elif block != want:
                if fix:
                    print(f"{rel}:{i + 1}: updated from {m.group(1)} [{m.group(2)}]")
                    out.extend(want)
                else:
                    diff = "\n".join(
                        difflib.unified_diff(
                            want, block, f"{m.group(1)} [{m.group(2)}]", f"{rel}:{i + 2}", lineterm=""
                        )
                    )
                    problems.append(
                        f"{rel}:{i + 1}: differs from {m.group(1)} [{m.group(2)}] "
                        f"(scripts/check-snippets.py --fix copies it):\n{diff}"
                    )
                    out.extend(block)
            else:
                out.extend(block)
        out.append(lines[end])
        i = end + 1
    if fix:
        text = "\n".join(out) + "\n"
        if text != doc.read_text():
            doc.write_text(text)
    return problems


def main(argv):
    fix = "--fix" in argv[1:]
    problems = []
    count = 0
    for doc in doc_files():
        count += sum(1 for l in doc.read_text().splitlines() if FENCE_OPEN.match(l))
        problems += check_file(doc, fix)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"check-snippets: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"check-snippets: {count} C++ snippet(s) match their compiled sources")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
