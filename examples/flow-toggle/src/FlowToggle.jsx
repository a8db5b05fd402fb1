// The seed document's FlowToggle (seed/toggle-active.md, "React Component Integration"),
// copied verbatim between the BEGIN/END markers; only the import and the export are added.
import { useState } from 'react';

// BEGIN seed FlowToggle (verbatim)
// Flow toggle button component
const FlowToggle = ({ flow, onToggle }) => {
const [loading, setLoading] = useState(false);
const handleToggle = async () => {
setLoading(true);
try {
const response = await fetch(`/gassapi2/backend/?act=flow_toggle_active&id=${flow.id}`, {
method: 'PUT',
headers: {
'Authorization': `Bearer ${localStorage.getItem('token')}`
}
});
const result = await response.json();
if (result.success) {
onToggle(result.data);
}
} catch (error) {
console.error('Toggle failed:', error);
} finally {
setLoading(false);
}
};
return (
<button
onClick={handleToggle}
disabled={loading}
className={`btn ${flow.is_active ? 'btn-warning' : 'btn-success'}`}
>
{loading ? 'Loading...' : (flow.is_active ? 'Deactivate' : 'Activate')}
</button>
);
};
// END seed FlowToggle

export default FlowToggle;
