// Read BPMN files as bpmn.io does (bpmn-moddle, with the Zeebe extension descriptors that
// Camunda Modeler loads) and print, as JSON, every warning and error per file.
import { readFile } from "node:fs/promises";
import { BpmnModdle } from "bpmn-moddle";
import zeebe from "zeebe-bpmn-moddle/resources/zeebe.json" with { type: "json" };

const moddle = new BpmnModdle({ zeebe });
const report = {};
for (const path of process.argv.slice(2)) {
  const xml = await readFile(path, "utf8");
  try {
    const { rootElement, warnings } = await moddle.fromXML(xml, "bpmn:Definitions");
    const processes = rootElement.rootElements.filter((e) => e.$type === "bpmn:Process").length;
    const diagrams = (rootElement.diagrams || []).length;
    report[path] = { warnings: warnings.map((w) => w.message), processes, diagrams };
  } catch (error) {
    report[path] = { error: String(error.message || error) };
  }
}
console.log(JSON.stringify(report));
