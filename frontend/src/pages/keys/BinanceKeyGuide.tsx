/** How to make a Binance API key the bot can trade with and nobody can withdraw with. */
export function BinanceKeyGuide() {
  return (
    <div className="guide">
      <ol>
        <li>
          Sign in at binance.com, open your profile menu and choose <strong>API Management</strong>.
        </li>
        <li>
          Choose <strong>Create API</strong>, then <strong>System generated</strong> (HMAC). Name it “TradeBot”.
        </li>
        <li>Confirm with your two-factor codes. Binance shows the API key and the secret key once.</li>
        <li>
          Choose <strong>Edit restrictions</strong> and set exactly these:
          <ul className="ticks">
            <li className="tick-yes">
              <span aria-hidden="true">✔</span> Tick <strong>Enable Reading</strong> — the bot reads balances, orders and fills.
            </li>
            <li className="tick-yes">
              <span aria-hidden="true">✔</span> Tick <strong>Enable Spot &amp; Margin Trading</strong> — the bot places and
              cancels grid orders.
            </li>
            <li className="tick-no">
              <span aria-hidden="true">✘</span> Never tick <strong>Enable Withdrawals</strong>.
            </li>
            <li className="tick-no">
              <span aria-hidden="true">✘</span> Never tick <strong>Permits Universal Transfer</strong>.
            </li>
            <li className="tick-no">
              <span aria-hidden="true">✘</span> Leave margin loans, futures and options off: a grid bot trades spot only.
            </li>
          </ul>
        </li>
        <li>
          Optionally restrict access to trusted IPs; then save and paste both keys below.
        </li>
      </ol>
      <div className="alert alert-warning" role="note">
        <strong>Keys that can withdraw are refused.</strong> When you paste a key, TradeBot asks Binance what it may do.
        If it can withdraw or transfer funds, it is not stored, and a key that gains that right later trips your kill
        switch. A leaked trade-only key can place orders but can never move your coins out of your account.
      </div>
    </div>
  );
}
