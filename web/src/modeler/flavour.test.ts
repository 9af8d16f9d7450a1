import { describe, expect, it } from "vitest";
import { detectFlavour, prefixesOf } from "./flavour";

const BPMN = 'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"';

describe("detectFlavour", () => {
  it("reads a Camunda Modeler 5 file for Camunda 8, which declares modeler: and uses zeebe:", () => {
    const xml = `<bpmn:definitions ${BPMN} xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
      xmlns:modeler="http://camunda.org/schema/modeler/1.0" modeler:executionPlatform="Camunda Cloud">
      <bpmn:serviceTask id="a"><bpmn:extensionElements><zeebe:taskDefinition type="x" /></bpmn:extensionElements></bpmn:serviceTask>`;
    expect(detectFlavour(xml)).toBe("camunda8");
  });

  it("reads camunda: attributes, and Activiti's namespace, as Camunda 7", () => {
    expect(detectFlavour(`<definitions xmlns:camunda="http://camunda.org/schema/1.0/bpmn"><serviceTask camunda:type="external" camunda:topic="t"/>`)).toBe("camunda7");
    expect(detectFlavour(`<definitions xmlns:activiti="http://activiti.org/bpmn"><userTask activiti:assignee="kermit"/>`)).toBe("camunda7");
  });

  it("goes by what the file uses, not by what it declares, and by any prefix the file chose", () => {
    const xml = `<definitions xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:z="http://camunda.org/schema/zeebe/1.0">
      <serviceTask id="a"><extensionElements><z:taskDefinition type="x"/></extensionElements></serviceTask>`;
    expect(detectFlavour(xml)).toBe("camunda8");
  });

  it("falls back to the execution platform, then to the only namespace declared", () => {
    expect(detectFlavour(`<definitions xmlns:modeler="http://camunda.org/schema/modeler/1.0" modeler:executionPlatform="Camunda Platform">`)).toBe("camunda7");
    expect(detectFlavour(`<definitions xmlns:zeebe="http://camunda.org/schema/zeebe/1.0">`)).toBe("camunda8");
  });

  it("says nothing for a plain bpmn.io file", () => {
    expect(detectFlavour(`<bpmn:definitions ${BPMN}><bpmn:process id="p"/></bpmn:definitions>`)).toBeNull();
  });
});

describe("prefixesOf", () => {
  it("finds every prefix bound to a namespace, in either quote", () => {
    expect(prefixesOf(`<d xmlns:a='urn:x' xmlns:b="urn:y" xmlns:c="urn:x">`, "urn:x")).toEqual(["a", "c"]);
  });
});
