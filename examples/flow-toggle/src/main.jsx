// The harness around the seed component. Query parameters:
//   flow   the flow id               active  its initial is_active (1 or 0)
//   token  the Bearer token, stored under localStorage 'token', where FlowToggle reads it
//   api    the gateway's origin, e.g. http://127.0.0.1:8080/ (optional)
//
// FlowToggle fetches the relative URL `/gassapi2/backend/?act=…`, which fetch() resolves
// against the document's base URL. Setting <base href=api> therefore sends the component's
// request to the gateway, another origin than this page, so the browser makes a real CORS
// request (OPTIONS preflight for PUT + Authorization) while the component stays verbatim.
// The <base> is added here, after the page's own assets have loaded from this page's origin;
// in the static HTML it would also redirect the /assets/… script to the gateway.
import { createRoot } from 'react-dom/client';
import App from './App.jsx';

const params = new URLSearchParams(window.location.search);
const api = params.get('api');
if (api) {
  const base = document.createElement('base');
  base.href = api;
  document.head.prepend(base);
}
if (params.has('token')) {
  localStorage.setItem('token', params.get('token'));
}

createRoot(document.getElementById('root')).render(
  <App flowId={params.get('flow')} initialActive={Number(params.get('active') ?? 1)} />,
);
