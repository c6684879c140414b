// Every view has its own URL (deep links, back button). Heavy pages (the deploy form and spec
// editor with the YAML library, the instance page with the terminal and charts) load when opened.
import { createRootRoute, createRoute, createRouter, lazyRouteComponent } from '@tanstack/react-router';
import { Layout } from './components/layout.js';
import { ServicesPage } from './pages/services.js';

// `?ns=` names the namespace of every view (namespace.ts); optional, so links may leave it out.
const rootRoute = createRootRoute({ component: Layout, validateSearch: (search: Record<string, unknown>): { ns?: string } => (typeof search.ns === 'string' ? { ns: search.ns } : {}) });
const parent = { getParentRoute: () => rootRoute };

const routeTree = rootRoute.addChildren([
  createRoute({ ...parent, path: '/', component: lazyRouteComponent(() => import('./pages/overview.js'), 'Overview') }),
  createRoute({ ...parent, path: '/services', component: ServicesPage }),
  createRoute({ ...parent, path: '/services/new', component: lazyRouteComponent(() => import('./pages/deploy.js'), 'DeployPage') }),
  createRoute({ ...parent, path: '/services/$ns/$name', component: lazyRouteComponent(() => import('./pages/service-detail.js'), 'ServiceDetail') }),
  createRoute({ ...parent, path: '/instances', component: lazyRouteComponent(() => import('./pages/instances.js'), 'InstancesPage') }),
  createRoute({ ...parent, path: '/instances/$ns/$name', component: lazyRouteComponent(() => import('./pages/instance-detail.js'), 'InstanceDetail') }),
  createRoute({ ...parent, path: '/nodes', component: lazyRouteComponent(() => import('./pages/nodes.js'), 'NodesPage') }),
  createRoute({ ...parent, path: '/nodes/$name', component: lazyRouteComponent(() => import('./pages/node-detail.js'), 'NodeDetail') }),
  createRoute({ ...parent, path: '/events', component: lazyRouteComponent(() => import('./pages/events.js'), 'EventsPage') }),
  createRoute({ ...parent, path: '/jobs', component: lazyRouteComponent(() => import('./pages/jobs.js'), 'JobsPage') }),
  createRoute({ ...parent, path: '/configs', component: lazyRouteComponent(() => import('./pages/configs.js'), 'ConfigsPage') }),
]);

export const router = createRouter({ routeTree, defaultPreload: false });

declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}
