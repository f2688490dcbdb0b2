"""Fail unless the Neo4j-backed and browser tests ran and none were skipped."""

import sys
import xml.etree.ElementTree as ET

cases = list(ET.parse(sys.argv[1]).getroot().iter("testcase"))
skipped = [c for c in cases if c.find("skipped") is not None]


def marked(case, name):
    """Tests carry their pytest markers as JUnit properties (tests/conftest.py)."""
    return any(p.get("name") == "marker" and p.get("value") == name for p in case.iter("property"))


neo4j = [c for c in cases if marked(c, "neo4j")]
browser = [c for c in cases if marked(c, "browser")]


def ran(group):
    return [c for c in group if c.find("skipped") is None]


print(f"{len(cases)} tests; Neo4j tests run: {len(ran(neo4j))}; browser tests run:"
      f" {len(ran(browser))}; skipped: {len(skipped)}")
problems = []
if not ran(neo4j):
    problems.append("no Neo4j test ran")
if not ran(browser):
    problems.append("no browser test ran")
if skipped:
    problems.append("skipped: " + ", ".join(c.get("name") for c in skipped))
if problems:
    sys.exit("CI check failed: " + "; ".join(problems))
