// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Buy-then-sell check of a token on a Uniswap-V2-style router, run inside one eth_call.
//
// Never deployed: the check injects this contract's runtime code at a fresh random address
// with an eth_call state override, and funds it by override too (an ETH balance when the quote
// is the router's WETH, a storage slot of the quote token's balance otherwise). Every step
// runs through a low-level call so a revert of the token ends that step, not the whole check,
// and its revert data comes back to be decoded.

interface IRouter {
    function factory() external view returns (address);
    function WETH() external view returns (address);
    function getAmountsOut(uint256 amountIn, address[] calldata path)
        external
        view
        returns (uint256[] memory);
}

interface IFactory {
    function getPair(address tokenA, address tokenB) external view returns (address);
}

interface IPair {
    function token0() external view returns (address);
    function getReserves() external view returns (uint112, uint112, uint32);
}

interface IERC20 {
    function balanceOf(address holder) external view returns (uint256);
}

contract SellSimulator {
    // The router paths that take fee-on-transfer tokens: the plain ones revert on them.
    bytes4 private constant BUY_WITH_ETH = bytes4(
        keccak256("swapExactETHForTokensSupportingFeeOnTransferTokens(uint256,address[],address,uint256)")
    );
    bytes4 private constant SWAP_TOKENS = bytes4(
        keccak256(
            "swapExactTokensForTokensSupportingFeeOnTransferTokens(uint256,uint256,address[],address,uint256)"
        )
    );
    bytes4 private constant SELL_FOR_ETH = bytes4(
        keccak256(
            "swapExactTokensForETHSupportingFeeOnTransferTokens(uint256,uint256,address[],address,uint256)"
        )
    );
    bytes4 private constant TRANSFER = bytes4(keccak256("transfer(address,uint256)"));
    bytes4 private constant APPROVE = bytes4(keccak256("approve(address,uint256)"));
    // A token's probe (owner(), paused(), maxTxAmount()...) may not burn the check's gas.
    uint256 private constant PROBE_GAS = 100_000;

    struct Step {
        bool tried;
        bool ok;
        uint256 gasUsed;
        uint256 sent; // what left us: quote for the buy, token for the transfer and the sell
        uint256 quoted; // the router's getAmountsOut for `sent` (the transfer: `sent`)
        uint256 arrived; // token that reached its destination: us, the recipient, the pair
        uint256 received; // what came back to us: token for the buy, quote for the sell
        bytes revertData;
    }

    struct Probe {
        bool ok;
        bytes data;
    }

    struct Report {
        address quote;
        address pair;
        uint256 reserveQuote;
        uint256 reserveToken;
        Probe[] probes;
        bytes tokenCode;
        Step buy;
        Step transfer;
        Step sell;
    }

    receive() external payable {}

    /// Buy `token` with `amountIn` of `quote` (zero: the router's WETH), send a
    /// 1/`transferShare` part of it to `recipient`, sell the rest back. `probes` are calls
    /// (selector and arguments) made to the token before the buy, their answers returned.
    function check(
        address router,
        address quote,
        address token,
        uint256 amountIn,
        address recipient,
        uint256 transferShare,
        bytes[] calldata probes
    ) external returns (Report memory r) {
        r = _probeAndBuy(router, quote, token, amountIn, probes);
        if (r.buy.ok) {
            (r.transfer, r.sell) = _transferAndSell(router, r.quote, token, recipient, transferShare);
        }
    }

    /// Fork mode, first half: the buy alone, sent as a transaction on a local fork; the tokens
    /// stay here until `sellHeld`, blocks later.
    function buy(address router, address quote, address token, uint256 amountIn, bytes[] calldata probes)
        external
        returns (Report memory r)
    {
        r = _probeAndBuy(router, quote, token, amountIn, probes);
    }

    /// Fork mode, second half: the transfer test and the sale of what `buy` left here.
    function sellHeld(address router, address quote, address token, address recipient, uint256 transferShare)
        external
        returns (Step memory transfer, Step memory sell)
    {
        address weth = IRouter(router).WETH();
        return _transferAndSell(router, quote == address(0) ? weth : quote, token, recipient, transferShare);
    }

    function _probeAndBuy(
        address router,
        address quote,
        address token,
        uint256 amountIn,
        bytes[] calldata probes
    ) private returns (Report memory r) {
        require(router.code.length > 0, "the router address has no code");
        require(token.code.length > 0, "the token address has no code");
        address weth = IRouter(router).WETH();
        r.quote = quote == address(0) ? weth : quote;
        require(token != r.quote, "the token is the quote asset");
        bool native = r.quote == weth;
        r.pair = IFactory(IRouter(router).factory()).getPair(r.quote, token);
        require(r.pair != address(0), "no pool of this token against the quote on this router");
        (uint112 reserve0, uint112 reserve1,) = IPair(r.pair).getReserves();
        (r.reserveQuote, r.reserveToken) =
            IPair(r.pair).token0() == r.quote ? (reserve0, reserve1) : (reserve1, reserve0);
        require(r.reserveQuote > 0 && r.reserveToken > 0, "the pool has no liquidity");
        uint256 funded = native ? address(this).balance : IERC20(r.quote).balanceOf(address(this));
        require(funded >= amountIn, "the quote balance override did not take");

        r.probes = new Probe[](probes.length);
        for (uint256 i = 0; i < probes.length; i++) {
            (r.probes[i].ok, r.probes[i].data) = token.staticcall{gas: PROBE_GAS}(probes[i]);
        }
        r.tokenCode = token.code;
        r.buy = _buy(router, r.quote, token, amountIn, native);
    }

    function _transferAndSell(
        address router,
        address quote,
        address token,
        address recipient,
        uint256 transferShare
    ) private returns (Step memory transfer, Step memory sell) {
        bool native = quote == IRouter(router).WETH();
        address pair = IFactory(IRouter(router).factory()).getPair(quote, token);
        transfer = _transfer(token, recipient, IERC20(token).balanceOf(address(this)) / transferShare);
        sell = _sell(router, quote, token, pair, native);
    }

    function _buy(address router, address quote, address token, uint256 amountIn, bool native)
        private
        returns (Step memory s)
    {
        s.tried = true;
        s.sent = amountIn;
        address[] memory path = _path(quote, token);
        s.quoted = IRouter(router).getAmountsOut(amountIn, path)[1];
        uint256 before = IERC20(token).balanceOf(address(this));
        uint256 start = gasleft();
        if (native) {
            (s.ok, s.revertData) = router.call{value: amountIn}(
                abi.encodeWithSelector(BUY_WITH_ETH, 0, path, address(this), block.timestamp)
            );
        } else {
            (s.ok, s.revertData) = _call(quote, abi.encodeWithSelector(APPROVE, router, amountIn));
            if (s.ok) {
                (s.ok, s.revertData) = router.call(
                    abi.encodeWithSelector(SWAP_TOKENS, amountIn, 0, path, address(this), block.timestamp)
                );
            }
        }
        s.gasUsed = start - gasleft();
        if (s.ok) {
            s.revertData = "";
            s.arrived = IERC20(token).balanceOf(address(this)) - before;
            s.received = s.arrived;
        }
    }

    function _transfer(address token, address recipient, uint256 amount)
        private
        returns (Step memory s)
    {
        s.tried = true;
        s.sent = amount;
        s.quoted = amount;
        uint256 before = IERC20(token).balanceOf(recipient);
        uint256 start = gasleft();
        (s.ok, s.revertData) = _call(token, abi.encodeWithSelector(TRANSFER, recipient, amount));
        s.gasUsed = start - gasleft();
        if (s.ok) {
            s.revertData = "";
            s.arrived = IERC20(token).balanceOf(recipient) - before;
            s.received = s.arrived;
        }
    }

    function _sell(address router, address quote, address token, address pair, bool native)
        private
        returns (Step memory s)
    {
        s.tried = true;
        s.sent = IERC20(token).balanceOf(address(this));
        if (s.sent == 0) {
            s.revertData = abi.encodeWithSignature("Error(string)", "no token left to sell");
            return s;
        }
        address[] memory path = _path(token, quote);
        s.quoted = IRouter(router).getAmountsOut(s.sent, path)[1];
        (s.ok, s.revertData) = _call(token, abi.encodeWithSelector(APPROVE, router, s.sent));
        if (!s.ok) return s;
        uint256 pairBefore = IERC20(token).balanceOf(pair);
        uint256 quoteBefore = _quoteBalance(quote, native);
        bytes4 selector = native ? SELL_FOR_ETH : SWAP_TOKENS;
        uint256 start = gasleft();
        (s.ok, s.revertData) = router.call(
            abi.encodeWithSelector(selector, s.sent, 0, path, address(this), block.timestamp)
        );
        s.gasUsed = start - gasleft();
        if (s.ok) {
            s.revertData = "";
            s.arrived = IERC20(token).balanceOf(pair) - pairBefore;
            s.received = _quoteBalance(quote, native) - quoteBefore;
        }
    }

    /// A token call that counts as done only if it did not revert and did not return false
    /// (tokens such as USDT return nothing at all).
    function _call(address target, bytes memory data) private returns (bool ok, bytes memory out) {
        (ok, out) = target.call(data);
        if (ok && out.length >= 32 && !abi.decode(out, (bool))) {
            ok = false;
            out = abi.encodeWithSignature("Error(string)", "the token returned false");
        }
    }

    function _quoteBalance(address quote, bool native) private view returns (uint256) {
        return native ? address(this).balance : IERC20(quote).balanceOf(address(this));
    }

    function _path(address from, address to) private pure returns (address[] memory path) {
        path = new address[](2);
        path[0] = from;
        path[1] = to;
    }
}
