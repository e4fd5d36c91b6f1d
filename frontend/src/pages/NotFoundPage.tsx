import { Link } from 'react-router';

export default function NotFoundPage() {
  return (
    <section className="page">
      <h1>Page not found</h1>
      <p>
        This address is not a page of the portal. <Link to="/">Go to your bots</Link>.
      </p>
    </section>
  );
}
