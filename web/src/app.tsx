// Signed in: the router. Not: the sign-in page (the URL stays, so a deep link opens after sign-in).
import { RouterProvider } from '@tanstack/react-router';
import { useEffect, useState } from 'react';
import { setUnauthorizedHandler } from './api/http.js';
import { sessionToken } from './api/session.js';
import { SignIn } from './pages/sign-in.js';
import { router } from './router.js';

export function App() {
  const [signedIn, setSignedIn] = useState(() => sessionToken() !== undefined);
  const [reason, setReason] = useState<string | undefined>(undefined);
  useEffect(() => {
    setUnauthorizedHandler((message) => {
      setReason(message);
      setSignedIn(false);
    });
  }, []);
  if (!signedIn) return <SignIn reason={reason} onSignedIn={() => (setReason(undefined), setSignedIn(true))} />;
  return <RouterProvider router={router} />;
}
