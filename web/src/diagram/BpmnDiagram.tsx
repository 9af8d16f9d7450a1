// The bpmn-js NavigatedViewer as a React component: the XML in, the state drawn on it,
// clicks on elements out. The viewer is created once per mount and re-imports on new XML.
import { useEffect, useRef, useState } from "react";
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";
import { stateOverlaysModule, type DiagramState, type StateOverlays } from "./stateOverlays";

interface Props {
  xml: string;
  state?: DiagramState;
  onElementClick?: (elementId: string, name: string | null) => void;
  label: string;
}

interface ClickEvent {
  element: { id: string; type: string; businessObject?: { name?: string } };
}

const SKIP = new Set(["bpmn:Process", "bpmn:Collaboration", "label"]);

export function BpmnDiagram({ xml, state, onElementClick, label }: Props) {
  const container = useRef<HTMLDivElement>(null);
  const viewer = useRef<NavigatedViewer | null>(null);
  const [imported, setImported] = useState(0);
  const [problem, setProblem] = useState<string | null>(null);
  const clickRef = useRef(onElementClick);
  useEffect(() => {
    clickRef.current = onElementClick;
  }, [onElementClick]);

  useEffect(() => {
    if (!container.current) return;
    const instance = new NavigatedViewer({ container: container.current, additionalModules: [stateOverlaysModule] });
    viewer.current = instance;
    instance.on("element.click", (event: ClickEvent) => {
      if (!SKIP.has(event.element.type)) clickRef.current?.(event.element.id, event.element.businessObject?.name ?? null);
    });
    return () => {
      instance.destroy();
      viewer.current = null;
    };
  }, []);

  useEffect(() => {
    const current = viewer.current;
    if (!current) return;
    let cancelled = false;
    current
      .importXML(xml)
      .then(() => {
        if (cancelled) return;
        (current.get("canvas") as { zoom: (level: string) => void }).zoom("fit-viewport");
        setProblem(null);
        setImported((n) => n + 1);
      })
      .catch((error: unknown) => !cancelled && setProblem(`The diagram could not be drawn: ${String(error)}`));
    return () => {
      cancelled = true;
    };
  }, [xml]);

  useEffect(() => {
    if (!viewer.current || imported === 0) return;
    (viewer.current.get("stateOverlays") as StateOverlays).show(state ?? {});
  }, [state, imported]);

  return (
    <figure className="diagram-frame">
      <div ref={container} className="diagram" role="img" aria-label={label} data-testid="diagram"
        data-imported={imported > 0 ? "yes" : "no"} />
      {problem && <figcaption role="alert" className="error">{problem}</figcaption>}
    </figure>
  );
}
