import { describe, expect, it } from "vitest";
import { ApiError } from "../api/problems";
import {
  elementsByLine,
  headline,
  placeProblems,
  problemsOfRefusal,
  reasonsNotRunnable,
  splitWarnings,
  type ValidationProblem,
} from "./problems";

const XML = [
  '<?xml version="1.0" encoding="UTF-8"?>', // 1
  '<bpmn:definitions id="defs">', // 2
  '  <bpmn:message id="Message_1" />', // 3
  '  <bpmn:process id="order" isExecutable="true">', // 4
  '    <bpmn:serviceTask id="charge">', // 5
  "      <bpmn:extensionElements>", // 6
  '        <zeebe:taskDefinition type="=x" />', // 7
  "      </bpmn:extensionElements>", // 8
  "    </bpmn:serviceTask>", // 9
  "    <!-- <bpmn:task id=\"commented\"> -->", // 10
  '    <bpmn:sequenceFlow id="f" sourceRef="a"', // 11
  '      targetRef="charge" />', // 12
  "  </bpmn:process>", // 13
  "</bpmn:definitions>", // 14
].join("\n");

function problem(element: string | null, line: number | null, message = "refused"): ValidationProblem {
  return { element, line, message, code: "MODEL_INVALID" };
}

describe("elementsByLine", () => {
  it("names the elements open at a line, innermost first, and skips comments", () => {
    const at = elementsByLine(XML);
    expect(at(7)).toEqual(["charge", "order", "defs"]);
    expect(at(10)).toEqual(["order", "defs"]);
    expect(at(12)).toEqual(["f", "order", "defs"]);
    expect(at(3)).toEqual(["Message_1", "defs"]);
  });
});

describe("placeProblems", () => {
  it("puts a problem on its element when drawn, else on the drawn element around its line, else in the list", () => {
    const drawn = new Set(["charge", "f"]);
    const placed = placeProblems(
      [problem("charge", 5), problem("Message_1", 3), problem("inner", 7), problem(null, null, "the document")],
      drawn,
      XML,
    );
    expect(placed.all.map((p) => p.shownOn)).toEqual(["charge", null, "charge", null]);
    expect(placed.byElement.get("charge")).toHaveLength(2);
    expect([...placed.byElement.keys()]).toEqual(["charge"]);
  });
});

describe("problemsOfRefusal", () => {
  it("takes a MODEL_INVALID deploy's listed problems, and makes one of any other refusal", () => {
    const invalid = new ApiError({
      status: 400,
      code: "MODEL_INVALID",
      detail: "the model is invalid",
      problems: [{ element: "charge", message: "a service task needs a task type", line: 7 }],
    });
    expect(problemsOfRefusal(invalid)).toEqual([
      { element: "charge", message: "a service task needs a task type", line: 7, code: "MODEL_INVALID" },
    ]);
    const parse = new ApiError({ status: 400, code: "MODEL_PARSE_ERROR", detail: "not XML at line 3", line: 3 });
    expect(problemsOfRefusal(parse)).toEqual([{ element: null, message: "not XML at line 3", line: 3, code: "MODEL_PARSE_ERROR" }]);
  });
});

describe("headline", () => {
  it("keeps a problem's first clause for the badge on the element", () => {
    expect(headline('a service task needs a task type, the name of its handler: zeebe:taskDefinition type="..."')).toBe(
      "a service task needs a task type, the name of its handler",
    );
    expect(headline("short")).toBe("short");
    expect(headline("x".repeat(150))).toHaveLength(100);
  });
});

describe("reasonsNotRunnable", () => {
  it("reads the server's 'element': message reasons, as warnings on their elements", () => {
    const reasons = reasonsNotRunnable(["'charge': a service task needs a task type", "cannot run: 'x' (line 4): odd", "no element"]);
    expect(reasons).toEqual([
      { element: "charge", line: null, message: "a service task needs a task type", code: "DEFINITION_NOT_EXECUTABLE" },
      { element: "x", line: 4, message: "odd", code: "DEFINITION_NOT_EXECUTABLE" },
      { element: null, line: null, message: "no element", code: "DEFINITION_NOT_EXECUTABLE" },
    ]);
    expect(placeProblems(reasons, new Set(["charge"]), "").all[0]).toMatchObject({ severity: "warning", shownOn: "charge" });
  });

  it("keeps the cannot-run warnings apart from what the import leaves out", () => {
    expect(splitWarnings(["cannot run: 'a': b", "zeebe:taskHeaders are ignored"])).toEqual({
      cannotRun: ["cannot run: 'a': b"],
      leftOut: ["zeebe:taskHeaders are ignored"],
    });
  });
});
