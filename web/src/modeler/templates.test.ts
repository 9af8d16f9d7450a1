import { describe, expect, it } from "vitest";
import { BpmnModdle } from "bpmn-moddle";
import { Linter } from "bpmnlint";
import zeebe from "zeebe-bpmn-moddle/resources/zeebe.json";
import { detectFlavour } from "./flavour";
import { lintConfig } from "./lint/config";
import { TEMPLATES, processKey, template } from "./templates";

describe("templates", () => {
  it.each(TEMPLATES.filter((t) => t.id !== "empty"))("$name is Camunda 8 and passes every lint rule", async ({ xml }) => {
    expect(detectFlavour(xml)).toBe("camunda8");
    const { rootElement, warnings } = await new BpmnModdle({ zeebe }).fromXML(xml);
    expect(warnings).toEqual([]);
    const reports = await new Linter(lintConfig).lint(rootElement);
    expect(Object.values(reports).flat().filter((issue) => issue.category === "error")).toEqual([]);
  });

  it("falls back to the empty diagram for an unknown template", () => {
    expect(template("no-such").id).toBe("empty");
    expect(processKey(template("approval").xml)).toBe("approval");
  });
});

describe("processKey", () => {
  it("takes the executable process of a collaboration", () => {
    const xml = `<bpmn:definitions><bpmn:process id="other" /><bpmn:process id="main" isExecutable="true" /></bpmn:definitions>`;
    expect(processKey(xml)).toBe("main");
    expect(processKey("<definitions><process id='only'/></definitions>")).toBe("only");
    expect(processKey("<definitions/>")).toBeNull();
  });
});
