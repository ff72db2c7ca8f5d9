/** The Visage web console: one page, one view per part of api.md, chosen by the URL's hash (#/groups …). */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { apiKey, setApiKey } from './api.js';
import './styles.css';
import { CompareView } from './views/compare.js';
import { FacesView } from './views/faces.js';
import { GroupsView } from './views/groups.js';
import { RegisterView } from './views/register.js';
import { SearchView } from './views/search.js';

const VIEWS = [
  { path: 'search', title: 'Search', hint: 'Who is in this photo?' },
  { path: 'register', title: 'Register', hint: 'Add a face to the library' },
  { path: 'compare', title: 'Compare', hint: 'Are these two photos the same person?' },
  { path: 'faces', title: 'Faces', hint: 'The stored faces' },
  { path: 'groups', title: 'Groups', hint: 'Groups and their thresholds' },
] as const;
type ViewPath = (typeof VIEWS)[number]['path'];

interface Route {
  view: ViewPath;
  params: URLSearchParams;
}

function currentRoute(): Route {
  const [path = '', query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const view = VIEWS.find((candidate) => candidate.path === path)?.path ?? 'search';
  return { view, params: new URLSearchParams(query) };
}

/** Only needed when the server runs with VISAGE_AUTH=on; the key stays in this tab (sessionStorage). */
function KeyField() {
  const [open, setOpen] = useState(false);
  const [value, setValue] = useState(apiKey);
  if (!open) {
    return (
      <button type="button" class="key-button" onClick={() => setOpen(true)}>
        API key{apiKey() ? ' ✓' : ''}
      </button>
    );
  }
  return (
    <form
      class="key-form"
      onSubmit={(event) => {
        event.preventDefault();
        setApiKey(value.trim());
        setOpen(false);
        location.reload();
      }}
    >
      <input type="password" placeholder="vsg_… (when the server requires keys)" aria-label="API key" value={value} onInput={(event) => setValue(event.currentTarget.value)} />
      <button type="submit">Use</button>
    </form>
  );
}

function App() {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const follow = () => setRoute(currentRoute());
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  const active = VIEWS.find((view) => view.path === route.view) ?? VIEWS[0];

  return (
    <>
      <header class="top">
        <a class="brand" href="#/search">
          <span class="logo" aria-hidden="true" />
          Visage
        </a>
        <nav>
          {VIEWS.map((view) => (
            <a key={view.path} href={`#/${view.path}`} class={view.path === route.view ? 'active' : ''} title={view.hint}>
              {view.title}
            </a>
          ))}
        </nav>
        <KeyField />
      </header>
      <main>
        <h2>
          {active.title} <small>{active.hint}</small>
        </h2>
        {route.view === 'search' && <SearchView />}
        {route.view === 'register' && <RegisterView />}
        {route.view === 'compare' && <CompareView />}
        {route.view === 'faces' && <FacesView key={route.params.get('group') ?? ''} group={route.params.get('group') ?? ''} />}
        {route.view === 'groups' && <GroupsView />}
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
