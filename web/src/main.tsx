import './mantine-styles.js';
import './app.css';
import { createTheme, localStorageColorSchemeManager, MantineProvider } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { collection } from './api/paths.js';
import { prefetchList } from './api/live-list.js';
import { sessionToken } from './api/session.js';
import { App } from './app.js';
import { currentNamespace } from './namespace.js';

// The services list is the page most opened cold: ask for it now, while React and the UI kit
// still evaluate, rather than after the first render.
if (sessionToken() !== undefined && window.location.pathname === '/services') prefetchList(collection('services', currentNamespace()));

const queries = new QueryClient({ defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false, staleTime: 5_000 } } });
const theme = createTheme({ primaryColor: 'indigo', fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif', defaultRadius: 'sm' });

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <MantineProvider theme={theme} defaultColorScheme="auto" colorSchemeManager={localStorageColorSchemeManager({ key: 'gantry.color-scheme' })}>
        <QueryClientProvider client={queries}>
          <App />
        </QueryClientProvider>
      </MantineProvider>
    </StrictMode>,
  );
}
