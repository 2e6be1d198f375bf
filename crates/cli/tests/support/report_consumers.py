"""Reads a `passerelle validate` report with independent consumers: junitparser for JUnit XML,
sarif-pydantic (the SARIF 2.1.0 object model, strictly typed) for SARIF. Prints what each read
as JSON; exits non-zero when a consumer rejects the file. Used by cli/tests/validate.rs.

    python report_consumers.py junit|sarif FILE
"""
import json
import sys

kind, path = sys.argv[1], sys.argv[2]
if kind == "junit":
    from junitparser import JUnitXml

    xml = JUnitXml.fromfile(path)
    suites = list(xml)
    cases = [case for suite in suites for case in suite]
    failing = [case.name for case in cases if any(type(r).__name__ == "Failure" for r in case.result)]
    print(json.dumps({"suites": len(suites), "tests": sum(s.tests for s in suites), "cases": len(cases), "failing": failing}))
elif kind == "sarif":
    from sarif_pydantic import Sarif

    sarif = Sarif.model_validate(json.load(open(path, encoding="utf-8")))
    run = sarif.runs[0]
    results = [
        {"rule": r.rule_id, "level": getattr(r.level, "value", r.level), "line": region.start_line if region else None}
        for r in run.results
        for region in [r.locations[0].physical_location.region]
    ]
    print(json.dumps({"version": sarif.version, "tool": run.tool.driver.name, "rules": len(run.tool.driver.rules), "results": results}))
else:
    sys.exit(f"unknown kind {kind}")
