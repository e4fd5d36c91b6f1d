// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

interface IRouterSwap {
    function WETH() external view returns (address);
    function swapExactTokensForETHSupportingFeeOnTransferTokens(
        uint256 amountIn,
        uint256 amountOutMin,
        address[] calldata path,
        address to,
        uint256 deadline
    ) external;
}

// The tokens the DEX sell check is tested on. Each behaves like a kind found in the wild; the
// owner (the deployer, who adds the liquidity) is exempt from every tax and rule, as in the
// real ones. `pair` is set by the owner once the pool exists: a transfer from it is a buy, a
// transfer to it a sell.

abstract contract TestToken {
    string public name;
    string public symbol;
    uint8 public constant decimals = 18;
    uint256 public totalSupply;
    address public owner;
    address public pair;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed holder, address indexed spender, uint256 value);

    constructor(string memory name_, string memory symbol_, uint256 supply) {
        name = name_;
        symbol = symbol_;
        owner = msg.sender;
        totalSupply = supply;
        balanceOf[msg.sender] = supply;
        emit Transfer(address(0), msg.sender, supply);
    }

    modifier onlyOwner() {
        require(msg.sender == owner, "not the owner");
        _;
    }

    function setPair(address pair_) external onlyOwner {
        pair = pair_;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function transfer(address to, uint256 value) external returns (bool) {
        _move(msg.sender, to, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            require(allowed >= value, "allowance too low");
            allowance[from][msg.sender] = allowed - value;
        }
        _move(from, to, value);
        return true;
    }

    function _move(address from, address to, uint256 value) private {
        require(balanceOf[from] >= value, "balance too low");
        // The token's own sales of its fees (SwapBackToken) are not taxed again.
        bool exempt = from == owner || to == owner || from == address(this);
        if (!exempt) _check(from, to, value);
        uint256 fee = exempt ? 0 : value * _feeBps(from, to) / 10_000;
        balanceOf[from] -= value;
        balanceOf[to] += value - fee;
        emit Transfer(from, to, value - fee);
        if (fee > 0) {
            balanceOf[address(this)] += fee;
            emit Transfer(from, address(this), fee);
        }
    }

    /// Reverts a transfer the token refuses.
    function _check(address from, address to, uint256 value) internal virtual {}

    /// The part of a transfer the token keeps, in basis points.
    function _feeBps(address, address) internal view virtual returns (uint256) {
        return 0;
    }
}

/// A plain ERC-20: no tax, no rule.
contract PlainToken is TestToken {
    constructor(uint256 supply) TestToken("Plain", "PLAIN", supply) {}
}

/// Taxes a buy, a sell and a wallet-to-wallet transfer at their own rates (basis points).
contract TaxToken is TestToken {
    uint256 public immutable buyBps;
    uint256 public immutable sellBps;
    uint256 public immutable transferBps;

    constructor(uint256 supply, uint256 buyBps_, uint256 sellBps_, uint256 transferBps_)
        TestToken("Taxed", "TAX", supply)
    {
        buyBps = buyBps_;
        sellBps = sellBps_;
        transferBps = transferBps_;
    }

    function _feeBps(address from, address to) internal view override returns (uint256) {
        if (from == pair) return buyBps;
        if (to == pair) return sellBps;
        return transferBps;
    }
}

/// The honeypot: anyone may buy, only the owner may sell (no revert reason to go by).
contract HoneypotToken is TestToken {
    constructor(uint256 supply) TestToken("Honey", "HONEY", supply) {}

    function _check(address, address to, uint256) internal view override {
        if (to == pair) revert();
    }
}

/// Blacklists every buyer on the buy: the tokens can never move again.
contract BlacklistToken is TestToken {
    mapping(address => bool) public isBlacklisted;

    constructor(uint256 supply) TestToken("Black", "BLACK", supply) {}

    function blacklist(address holder, bool listed) external onlyOwner {
        isBlacklisted[holder] = listed;
    }

    function _check(address from, address to, uint256) internal override {
        require(!isBlacklisted[from], "blacklisted");
        if (from == pair) isBlacklisted[to] = true;
    }
}

/// No transfer above `maxTxAmount`.
contract MaxTxToken is TestToken {
    uint256 public maxTxAmount;

    constructor(uint256 supply, uint256 maxTxAmount_) TestToken("Capped", "CAP", supply) {
        maxTxAmount = maxTxAmount_;
    }

    function _check(address, address, uint256 value) internal view override {
        require(value <= maxTxAmount, "transfer amount exceeds the max tx amount");
    }
}

/// The owner can stop every transfer.
contract PausableToken is TestToken {
    bool public paused;

    constructor(uint256 supply) TestToken("Pause", "PAUSE", supply) {}

    function pause() external onlyOwner {
        paused = true;
    }

    function unpause() external onlyOwner {
        paused = false;
    }

    function _check(address, address, uint256) internal view override {
        require(!paused, "paused");
    }
}

/// A buyer may sell for `sellBlocks` blocks after his buy, then never: it passes a check that
/// buys and sells at once, and only a sale blocks later (fork mode) shows the trap.
contract LateHoneypotToken is TestToken {
    uint256 public immutable sellBlocks;
    mapping(address => uint256) private boughtAt;

    constructor(uint256 supply, uint256 sellBlocks_) TestToken("Late", "LATE", supply) {
        sellBlocks = sellBlocks_;
    }

    function _check(address from, address to, uint256) internal override {
        if (from == pair) boughtAt[to] = block.number;
        if (to == pair) require(block.number <= boughtAt[from] + sellBlocks, "sell window closed");
    }
}

/// Taxes like TaxToken, and before a sale moves the seller's tokens it sells the fees it has
/// collected into the same pool ("swap and liquify"): the pool then receives more tokens than
/// the seller's taxed amount, which hides the tax from a count of what reached the pool.
contract SwapBackToken is TestToken {
    uint256 public immutable buyBps;
    uint256 public immutable sellBps;
    address public immutable router;
    bool private swapping;

    constructor(uint256 supply, uint256 buyBps_, uint256 sellBps_, address router_)
        TestToken("Swap back", "SWAP", supply)
    {
        buyBps = buyBps_;
        sellBps = sellBps_;
        router = router_;
        allowance[address(this)][router_] = type(uint256).max;
    }

    function _check(address, address to, uint256) internal override {
        uint256 fees = balanceOf[address(this)];
        if (to != pair || swapping || fees == 0) return;
        swapping = true;
        address[] memory path = new address[](2);
        path[0] = address(this);
        path[1] = IRouterSwap(router).WETH();
        IRouterSwap(router).swapExactTokensForETHSupportingFeeOnTransferTokens(
            fees, 0, path, owner, block.timestamp
        );
        swapping = false;
    }

    function _feeBps(address from, address to) internal view override returns (uint256) {
        if (from == pair) return buyBps;
        if (to == pair) return sellBps;
        return 0;
    }
}
