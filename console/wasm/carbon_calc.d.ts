/* tslint:disable */
/* eslint-disable */
/** A decimal number carried as a string, e.g. "7.35". Never a JS number. */
export type DecimalString = string;
/** An RFC 3339 time, e.g. "2024-05-01T08:30:00+08:00". */
export type Rfc3339 = string;
/** Lowercase hexadecimal bytes. */
export type Hex = string;

export type FactorUnit = "g_per_km" | "g_per_trip";
export type Reliability = "published" | "second_hand" | "unverified" | "interim";
export type GridPurpose = "average_emission_factor" | "enterprise_ghg_reporting";

/** Thrown by every function on bad input. `field` is a JSON path such as "legs[1].distance_km". */
export interface CalcError extends Error {
    code:
    | "invalid_json" | "missing_field" | "unknown_field" | "invalid_value" | "out_of_range"
    | "unknown_methodology" | "unknown_mode" | "too_many_items" | "too_few_items"
    | "invalid_methodology";
    field: string;
}

export interface CommuteLeg { mode: string; distance_km?: DecimalString }
export interface CommuteRequest { preset?: string; legs: CommuteLeg[] }
export interface LegEstimate {
    mode: string; distance_km?: DecimalString; factor_g: DecimalString; unit: FactorUnit;
    reduction_g: DecimalString;
}
export interface CommuteEstimate {
    preset: string; preset_version: number; reduction_g: DecimalString; credited_g: number;
    legs: LegEstimate[];
}

export interface GridRequest { grid: string; electricity_mwh: DecimalString }
export interface GridEstimate {
    grid: string; grid_version: number; purpose: GridPurpose; factor_t_per_mwh: DecimalString;
    electricity_mwh: DecimalString; reduction_t: DecimalString; credited_g: number;
}

export interface MethaneRequest { ch4_t: DecimalString; gwp: string }
export interface MethaneEstimate {
    gwp: string; gwp_version: number; gwp_ch4: DecimalString; ch4_t: DecimalString;
    reduction_t: DecimalString; credited_g: number;
}

export interface ForestRequest {
    methodology?: string;
    area_ha: DecimalString; volume_m3_per_ha_start: DecimalString; volume_m3_per_ha_end: DecimalString;
    wood_density: DecimalString; bef: DecimalString; root_shoot_ratio: DecimalString;
    carbon_fraction?: DecimalString; buffer_fraction?: DecimalString;
}
export interface ForestEstimate {
    methodology: string; methodology_version: number; carbon_fraction: DecimalString;
    buffer_fraction: DecimalString; gross_t: DecimalString; buffer_t: DecimalString;
    reduction_t: DecimalString; gross_g: number; buffer_g: number; credited_g: number;
}

/** Carbon-sink index insurance: min(maximum, max(0, loss − threshold) × price per tonne). */
export interface SinkInsuranceRequest {
    insured_stock_t: DecimalString; threshold_t: DecimalString; loss_t: DecimalString;
    price_per_t: DecimalString; maximum: DecimalString;
}
export interface SinkInsuranceEstimate {
    counted_loss_t: DecimalString; triggered: boolean; excess_t: DecimalString;
    payout: DecimalString; payout_fen: string; capped: boolean;
}
/** Price insurance: min(maximum, max(0, strike − average close) × quantity). */
export interface PriceInsuranceRequest {
    quantity: DecimalString; strike: DecimalString; closes: DecimalString[]; maximum: DecimalString;
}
export interface PriceInsuranceEstimate {
    reference: DecimalString; in_the_money: boolean; payout: DecimalString; payout_fen: string; capped: boolean;
}

export interface TripCheckRequest {
    preset?: string; mode: string; distance_km: DecimalString; started_at: Rfc3339; ended_at: Rfc3339;
}
export type TripProblem = "too_slow" | "too_fast" | "too_far";
export interface TripCheck {
    preset: string; preset_version: number; bounds: string; bounds_version: number; mode: string;
    distance_km: DecimalString; duration_s: DecimalString; avg_speed_kmh: DecimalString;
    min_speed_kmh: DecimalString; max_speed_kmh: DecimalString; max_distance_km: DecimalString;
    within_bounds: boolean; problems: TripProblem[];
}
export interface CommuteCheckRequest {
    preset?: string; legs: CommuteLeg[]; started_at: Rfc3339; ended_at: Rfc3339;
}
export interface CommuteCheck { problems: TripProblem[] }

export interface TracePoint { lat: number | DecimalString; lon: number | DecimalString; t: Rfc3339 }
export interface TraceRequest { preset?: string; trace: TracePoint[] }
export interface Teleport {
    from: number; distance_m: DecimalString; duration_s: DecimalString; speed_kmh?: DecimalString;
}
export interface TraceMeasure {
    bounds: string; bounds_version: number; points: number; distance_km: DecimalString;
    duration_s: DecimalString; max_segment_speed_kmh?: DecimalString;
    teleport_speed_kmh: DecimalString; teleport_min_jump_m: DecimalString; teleports: Teleport[];
}

export interface ModeFactor { mode: string; factor_g: DecimalString; unit: FactorUnit; source: string }
export interface ActivityFactor { activity: string; factor_g: DecimalString; unit: string; source: string }
export interface CommutePreset {
    id: string; version: number; title: string; region: string; effective_from?: string;
    reliability: Reliability; source: string; trip_bounds: string; factors: ModeFactor[];
    other_factors?: ActivityFactor[];
}
export interface GridTable {
    id: string; version: number; region: string; name: string; year: number;
    factor_t_per_mwh: DecimalString; purpose: GridPurpose; reliability: Reliability; source: string;
}
export interface GwpSet {
    id: string; version: number; title: string; horizon_years: number; ch4: DecimalString;
    reliability: Reliability; source: string;
}
export interface ModeBounds {
    mode: string; min_speed_kmh: DecimalString; max_speed_kmh: DecimalString; max_distance_km: DecimalString;
}
export interface TripBounds {
    id: string; version: number; source: string; teleport_speed_kmh: DecimalString;
    teleport_min_jump_m: DecimalString; modes: ModeBounds[];
}
export interface ForestMethodology {
    id: string; version: number; title: string; reliability: Reliability; source: string;
    carbon_fraction_default: DecimalString; carbon_fraction_source: string;
    buffer_fraction_default: DecimalString;
}
/** The methodology catalogue: what listPresets returns and loadMethodologies accepts. */
export interface Methodologies {
    default_preset?: string;
    commute_presets?: CommutePreset[];
    grid_factors?: GridTable[];
    gwp_sets?: GwpSet[];
    trip_bounds?: TripBounds[];
    forest_methodologies?: ForestMethodology[];
}
export interface TableRef { kind: string; id: string; version: number }
export interface LoadReport {
    added: TableRef[]; replaced: TableRef[]; unchanged: TableRef[]; ignored_older: TableRef[];
    default_preset: string;
}

export interface InclusionRequest {
    leaf_hash: Hex; leaf_index: number; tree_size: number; proof: Hex[]; root_hash: Hex;
}
export interface ConsistencyRequest {
    first_size: number; second_size: number; first_root: Hex; second_root: Hex; proof: Hex[];
}
/** Signed over RFC 9162 TreeHeadDataV2 bytes; timestamp in ms since the Unix epoch. */
export interface TreeHeadRequest {
    tree_size: number; root_hash: Hex; timestamp: number; signature: Hex; public_key: Hex;
}



export function checkCommute(request: CommuteCheckRequest): CommuteCheck;

export function checkTrip(request: TripCheckRequest): TripCheck;

export function estimateCommute(request: CommuteRequest): CommuteEstimate;

export function estimateForestSink(request: ForestRequest): ForestEstimate;

export function estimateGridElectricity(request: GridRequest): GridEstimate;

export function estimateMethane(request: MethaneRequest): MethaneEstimate;

export function estimatePriceInsurance(request: PriceInsuranceRequest): PriceInsuranceEstimate;

export function estimateSinkInsurance(request: SinkInsuranceRequest): SinkInsuranceEstimate;

/**
 * Every methodology table this module holds (built-in plus loaded), in the
 * shape `loadMethodologies` accepts.
 */
export function listPresets(): Methodologies;

/**
 * Loads newer methodology tables (e.g. the server's `/methodologies`
 * response) for the estimates that follow. All or nothing.
 */
export function loadMethodologies(tables: Methodologies): LoadReport;

export function measureTrace(request: TraceRequest | TracePoint[]): TraceMeasure;

/**
 * RFC 9162 leaf hash of hex-encoded data, as lowercase hex.
 */
export function merkleLeafHash(data_hex: string): string;

export function verifyConsistency(request: ConsistencyRequest): boolean;

export function verifyInclusion(request: InclusionRequest): boolean;

export function verifyTreeHead(request: TreeHeadRequest): boolean;

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly checkCommute: (a: any) => [number, number, number];
    readonly checkTrip: (a: any) => [number, number, number];
    readonly estimateCommute: (a: any) => [number, number, number];
    readonly estimateForestSink: (a: any) => [number, number, number];
    readonly estimateGridElectricity: (a: any) => [number, number, number];
    readonly estimateMethane: (a: any) => [number, number, number];
    readonly estimatePriceInsurance: (a: any) => [number, number, number];
    readonly estimateSinkInsurance: (a: any) => [number, number, number];
    readonly listPresets: () => [number, number, number];
    readonly loadMethodologies: (a: any) => [number, number, number];
    readonly measureTrace: (a: any) => [number, number, number];
    readonly merkleLeafHash: (a: number, b: number) => [number, number, number, number];
    readonly verifyConsistency: (a: any) => [number, number, number];
    readonly verifyInclusion: (a: any) => [number, number, number];
    readonly verifyTreeHead: (a: any) => [number, number, number];
    readonly __wbindgen_malloc: (a: number, b: number) => number;
    readonly __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
    readonly __wbindgen_free: (a: number, b: number, c: number) => void;
    readonly __wbindgen_exn_store: (a: number) => void;
    readonly __externref_table_alloc: () => number;
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __externref_table_dealloc: (a: number) => void;
    readonly __wbindgen_start: () => void;
}

export type SyncInitInput = BufferSource | WebAssembly.Module;

/**
 * Instantiates the given `module`, which can either be bytes or
 * a precompiled `WebAssembly.Module`.
 *
 * @param {{ module: SyncInitInput }} module - Passing `SyncInitInput` directly is deprecated.
 *
 * @returns {InitOutput}
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/**
 * If `module_or_path` is {RequestInfo} or {URL}, makes a request and
 * for everything else, calls `WebAssembly.instantiate` directly.
 *
 * @param {{ module_or_path: InitInput | Promise<InitInput> }} module_or_path - Passing `InitInput` directly is deprecated.
 *
 * @returns {Promise<InitOutput>}
 */
export default function __wbg_init (module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;
