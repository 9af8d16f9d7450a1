// A "Legato" group in the properties panel for what neither Camunda dialect can say and
// Legato reads (docs/bpmn.md "Extensions"): the timeout of a task's job, `legato:timeout
// seconds` (legatoTimeout.ts reads and writes it).
import { h } from "@bpmn-io/properties-panel/preact";
import { NumberFieldEntry, isNumberFieldEntryEdited } from "@bpmn-io/properties-panel";
import { useService } from "bpmn-js-properties-panel";
import { hasTimeout, setTimeoutOf, timeoutOf, type DiagramElement, type Services } from "./legatoTimeout";

function TimeoutEntry(props: { element: DiagramElement; id: string }) {
  const services: Services = {
    moddle: useService("moddle"),
    bpmnFactory: useService("bpmnFactory"),
    commandStack: useService("commandStack"),
  };
  const debounce = useService("debounceInput");
  const translate = useService("translate") as (text: string) => string;
  return h(NumberFieldEntry, {
    element: props.element,
    id: props.id,
    label: translate("Timeout (seconds)"),
    description: translate("how long a handler may run the job before it counts as failed (legato:timeout)"),
    min: 0,
    step: "any",
    debounce,
    getValue: (element: DiagramElement) => timeoutOf(element.businessObject),
    setValue: (value: unknown) => {
      const seconds = value === "" || value === undefined || value === null ? undefined : Number(value);
      setTimeoutOf(props.element, seconds !== undefined && Number.isFinite(seconds) ? seconds : undefined, services);
    },
  });
}

class LegatoPropertiesProvider {
  static $inject = ["propertiesPanel"];

  constructor(propertiesPanel: { registerProvider(priority: number, provider: unknown): void }) {
    propertiesPanel.registerProvider(400, this);
  }

  getGroups(element: DiagramElement) {
    return (groups: { id: string }[]) => {
      if (!element.businessObject || !hasTimeout(element.businessObject)) return groups;
      return [
        ...groups,
        {
          id: "legato",
          label: "Legato",
          entries: [{ id: "legatoTimeout", element, component: TimeoutEntry, isEdited: isNumberFieldEntryEdited }],
        },
      ];
    };
  }
}

/** The bpmn-js module: add it beside the properties panel's own providers. */
export const legatoPanelModule = {
  __init__: ["legatoPropertiesProvider"],
  legatoPropertiesProvider: ["type", LegatoPropertiesProvider],
};
