import type { components } from './schema';

/** Short names of the generated API schemas the pages use. */
type Schemas = components['schemas'];
export type Bot = Schemas['BotView'];
export type BotCreate = Schemas['BotCreate'];
export type GridSpec = Schemas['GridSpec'];
export type PlanPreview = Schemas['PlanPreview'];
export type Run = Schemas['RunView'];
export type RunStatus = Schemas['RunStatusView'];
export type Fill = Schemas['FillView'];
export type Order = Schemas['OrderView'];
export type Guard = Schemas['GuardView'];
export type EquityPoint = Schemas['EquityPoint'];
export type Backtest = Schemas['BacktestView'];
export type Billing = Schemas['BillingView'];
export type Plan = Schemas['PlanView'];
export type Credential = Schemas['CredentialMetadata'];
export type KeysInput = Schemas['KeysInput'];
export type Spacing = Schemas['Spacing'];
export type GridEditPreview = Schemas['GridEditPreview'];
export type CheckoutPlan = Schemas['CheckoutRequest']['plan'];
