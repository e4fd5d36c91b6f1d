import { NavLink, Outlet } from 'react-router';
import { useAuth } from '../auth/AuthContext';

const links = [
  { to: '/', label: 'Bots', end: true },
  { to: '/start', label: 'Get started', end: false },
  { to: '/bots/new', label: 'New bot', end: false },
  { to: '/dex', label: 'DEX check', end: false },
  { to: '/account', label: 'Account', end: false },
];

export function Layout() {
  const { user, signOut } = useAuth();
  const email = user?.profile.email ?? user?.profile.sub;
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand" aria-label="TradeBot">
          <span className="brand-mark" aria-hidden="true">▦</span> TradeBot
        </span>
        <nav aria-label="Main">
          <ul>
            {links.map((link) => (
              <li key={link.to}>
                <NavLink to={link.to} end={link.end}>
                  {link.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="user">
          <span className="user-email">{email}</span>
          <button type="button" className="button ghost" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
