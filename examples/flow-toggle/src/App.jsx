import { useState } from 'react';
import FlowToggle from './FlowToggle.jsx';

// Minimal wrapper: holds the flow state and lets FlowToggle's onToggle replace it with the row
// the gateway answered (result.data).
export default function App({ flowId, initialActive }) {
  const [flow, setFlow] = useState({ id: flowId, is_active: initialActive });
  return (
    <main>
      <h1>Flow <code>{flow.id}</code></h1>
      <p>
        is_active: <output data-testid="is-active">{flow.is_active}</output>
        {' · '}page <code>{window.location.origin}</code>
        {' · '}API <code>{document.baseURI}</code>
      </p>
      <FlowToggle flow={flow} onToggle={setFlow} />
    </main>
  );
}
