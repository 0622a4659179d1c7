//! The stable problem codes clients switch on, each with its one HTTP
//! status and what it means. Every error's mapping names one of these; the
//! mobile guide's table is printed from this list (`tanpuhui problems`),
//! and a test fails when the guide and the list differ.

macro_rules! problem_codes {
    ($( $variant:ident = $status:literal, $code:literal, $meaning:literal; )*) => {
        /// A stable problem code (`code` of a problem document).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ProblemCode {
            $( $variant, )*
        }

        impl ProblemCode {
            /// Every code, in the guide's order.
            pub const ALL: &'static [ProblemCode] = &[ $( ProblemCode::$variant, )* ];

            pub fn as_str(self) -> &'static str {
                match self {
                    $( ProblemCode::$variant => $code, )*
                }
            }

            /// The HTTP status every answer with this code has.
            pub fn status(self) -> u16 {
                match self {
                    $( ProblemCode::$variant => $status, )*
                }
            }

            /// What the code means, for the guide.
            pub fn meaning(self) -> &'static str {
                match self {
                    $( ProblemCode::$variant => $meaning, )*
                }
            }
        }
    };
}

problem_codes! {
    InvalidJson = 400, "invalid_json", "the body is not JSON";
    UnknownField = 400, "unknown_field", "a field the request does not define (usually a typo); `param` names it";
    MissingField = 400, "missing_field", "a required field is absent; `param` names it";
    InvalidValue = 400, "invalid_value", "a field of the wrong type, or a value that cannot be read (a decimal, a timestamp, an enum)";
    InvalidQuery = 400, "invalid_query", "a query parameter of the wrong type or value";
    InvalidBody = 400, "invalid_body", "the body could not be read";
    InvalidCharacter = 400, "invalid_character", "a NUL character (U+0000) in the path, a query parameter or the body";
    InvalidIdempotencyKey = 400, "invalid_idempotency_key", "the `Idempotency-Key` header is not 1–255 visible ASCII characters";
    InvalidToken = 401, "invalid_token", "missing, invalid, expired or revoked token: refresh, or sign in again";
    InvalidCredentials = 401, "invalid_credentials", "wrong login or password";
    TokenReused = 401, "token_reused", "a used refresh token was presented again: the sign-in is over";
    InvalidSignature = 401, "invalid_signature", "(partner feeds) the request's signature does not check";
    Forbidden = 403, "forbidden", "signed in, but the role does not allow it";
    NotFound = 404, "not_found", "no such object, **or not yours**: objects you may not see look absent; `param` names the field that named it, when one did";
    MethodNotAllowed = 405, "method_not_allowed", "the path exists but not with this method; `Allow` lists the methods it takes";
    AlreadyRegistered = 409, "already_registered", "the email or mobile number is taken";
    UsccRegistered = 409, "uscc_registered", "an organisation with this unified social credit code exists";
    AlreadyDecided = 409, "already_decided", "decided before";
    AlreadyRequested = 409, "already_requested", "asked before";
    AlreadyGranted = 409, "already_granted", "the user holds this role already";
    AlreadyIssued = 409, "already_issued", "the report's credits were issued before";
    IdempotencyKeyReused = 409, "idempotency_key_reused", "this `Idempotency-Key` was used for a different request (see Retrying safely)";
    IdempotencyKeyInFlight = 409, "idempotency_key_in_flight", "the first request with this `Idempotency-Key` is still running (see Retrying safely)";
    ClientTripIdReused = 409, "client_trip_id_reused", "a `client_trip_id` used before for a different trip";
    RecordIdReused = 409, "record_id_reused", "(partner feeds) a `record_id` used before for a different record";
    IdReused = 409, "id_reused", "a transfer, retirement or order id (`client_order_id`) used before for a different request";
    CardAlreadyLinked = 409, "card_already_linked", "the transit card is linked to another person";
    TooManyCards = 409, "too_many_cards", "a person links at most 10 transit cards";
    InsufficientPoints = 409, "insufficient_points", "not enough points";
    InsufficientCredits = 409, "insufficient_credits", "not enough unencumbered credits of the batch";
    OutOfStock = 409, "out_of_stock", "the reward has too few items left";
    DoubleCounting = 409, "double_counting", "the same reduction (a parcel, a meter, a registration elsewhere) is registered already";
    PeriodOverlaps = 409, "period_overlaps", "the monitoring period overlaps one reported before";
    RetirementAlreadyClaimed = 409, "retirement_already_claimed", "the retirement backs another carbon-neutral claim";
    NotApproved = 409, "not_approved", "the organisation is not approved";
    NotAnApprovedEnterprise = 409, "not_an_approved_enterprise", "only approved enterprises may do this";
    NotJoinable = 409, "not_joinable", "the organisation does not take members";
    NotADraft = 409, "not_a_draft", "the project was submitted: it cannot be edited or submitted again";
    NoticeOpen = 409, "notice_open", "the project's public notice has not closed yet";
    NoticeClosed = 409, "notice_closed", "the project's public notice has closed";
    ProjectNotApproved = 409, "project_not_approved", "the project is not approved";
    NotVerified = 409, "not_verified", "the report is not verified";
    NotAForestSink = 409, "not_a_forest_sink", "reversals are recorded against forest sinks only";
    NothingToAggregate = 409, "nothing_to_aggregate", "no unaggregated credited reductions of that preset in the period";
    TryAgain = 409, "try_again", "a concurrent change won: retry";
    NotAParticipant = 409, "not_a_participant", "(market) the organisation does not trade: it must be an approved enterprise, government department, reserve platform or service centre";
    AlreadyListed = 409, "already_listed", "(market) the instrument is listed already";
    InstrumentSuspended = 409, "instrument_suspended", "(market) the instrument is suspended: no orders, picks, block trades or bids until it resumes";
    NoGuidancePrice = 409, "no_guidance_price", "(pricing) no guidance price of the instrument is in force: government staff publish one first";
    NotSuspended = 409, "not_suspended", "(market) the instrument is not suspended";
    InsufficientCash = 409, "insufficient_cash", "(market) not enough cash available (deposited, less what orders, bids and withdrawals hold)";
    ReferenceReused = 409, "reference_reused", "(market) the bank reference was recorded before for a different deposit";
    MarketClosed = 409, "market_closed", "(market) outside the trading sessions (Monday–Friday 09:30–11:30 and 13:00–15:00 China time by default) or the block-trade window";
    InsufficientUnits = 409, "insufficient_units", "(market) not enough units of the instrument available to sell (held, less what open orders hold)";
    TPlusOne = 409, "t_plus_one", "(market) units bought today can be sold from the next trading day";
    PositionLimit = 409, "position_limit", "(market) the order would take the organisation's holding of the instrument over its position limit";
    OrderNotOpen = 409, "order_not_open", "(market) the order is filled, cancelled or expired, or it is not in the book (bids are irrevocable; a block proposal is withdrawn, not cancelled)";
    NotPickable = 409, "not_pickable", "(market) the picked order is not among the best price levels of its side (5 by default)";
    SelfTrade = 409, "self_trade", "(market) an order of the taker's own organisation cannot be picked";
    BlockNotOpen = 409, "block_not_open", "(market) the block trade was accepted, declined, withdrawn or has expired (proposals are answered on their trading day)";
    AuctionNotOpen = 409, "auction_not_open", "(market) the auction takes no bids now: before `opens_at`, from `closes_at` on, or closed";
    BidderCap = 409, "bidder_cap", "(market) the bidder's bids for the lot would add up to more than the per-bidder cap (`bidder_cap_units`, half the lot by default)";
    OperationNotOpen = 409, "operation_not_open", "(reserve) the operation was answered or withdrawn already, or the lease is no longer active (returned, paid, or past its due day: its deposit pays)";
    GuidancePriceChanged = 409, "guidance_price_changed", "(reserve) the applicable guidance price changed since the offer: the holder withdraws it and offers again at the new price";
    PledgeNotOpen = 409, "pledge_not_open", "(finance) the pledge is not in a state for that: applied, active, under a margin call, enforcing or ended (`detail` says which and what is possible)";
    UnitsPledged = 409, "units_pledged", "(finance) the units are pledged (`detail` names the pledge and its pledgee): they are not sold, transferred, retired, leased or pledged again; a second pledge ranks behind the first with its pledgee's consent";
    LienConsentRequired = 409, "lien_consent_required", "(finance) a pledge ranking behind another is confirmed only after the first pledgee's consent is recorded";
    LoanOverLtv = 409, "loan_over_ltv", "(finance) the loan is over the loan-to-value ratio of the collateral's value (less what earlier ranks owe)";
    BelowMaintenance = 409, "below_maintenance", "(finance) releasing that many units would leave the collateral below the maintenance level (the outstanding loan ÷ `maintenance_ratio`)";
    ReleaseBeyondRepaid = 409, "release_beyond_repaid", "(finance) more units than the repayments free: units are released in proportion to the loan repaid";
    EnforcementNotDue = 409, "enforcement_not_due", "(finance) the pledge is not in default: a margin call still within its cure deadline, or a loan not yet due";
    PolicyNotOpen = 409, "policy_not_open", "(finance) the insurance policy was answered, withdrawn or has ended";
    AllocationExists = 409, "allocation_exists", "(rights) the permit or project identifier has an allocation of this instrument already";
    UnitsUnconverted = 409, "units_unconverted", "(rights) the units were allocated free of charge and are not converted, or allocated for payment and not paid for: the holder converts them (补缴) or pays their instalments before they are sold, transferred, retired, leased or pledged; only the reserve takes them so";
    ComplianceRecorded = 409, "compliance_recorded", "(rights) the holder's verified use of that class and year is recorded already";
    ComplianceClosed = 409, "compliance_closed", "(rights) the year's surrender deadline has passed: what was not surrendered is a public compliance gap";
    NothingDue = 409, "nothing_due", "(rights) the allocation has no instalment left to pay: it is paid in full, or not a paid allocation";
    RightsExpired = 409, "rights_expired", "(rights) the rights are past their validity: expired units are cancelled and never move again";
    ClawBackNotApplicable = 409, "claw_back_not_applicable", "(reserve) claw-back returns allocated rights only; issued carbon credits are never clawed back";
    PayloadTooLarge = 413, "payload_too_large", "the body is over the route's limit (64 KiB; trips 2 MiB; trip batches 8 MiB)";
    UnsupportedMediaType = 415, "unsupported_media_type", "send `Content-Type: application/json`";
    InvalidField = 422, "invalid_field", "a field breaks a rule; `param` names it";
    OutsideBand = 422, "outside_band", "(market) the price is outside today's band around the reference price; `detail` states the band (also in the instrument's `band`)";
    BelowFloor = 422, "below_floor", "(market) the price is below the instrument's guidance price, which is a floor (`floor_price`; the Lanzhou and Shanxi pollutant rules: no trade below the benchmark)";
    BelowReserve = 422, "below_reserve", "(market) a bid below the auction's reserve price";
    OutOfRange = 422, "out_of_range", "(calculator) a value outside its allowed range; `param` is the JSON path of the field (`legs[1].distance_km`)";
    UnknownMethodology = 422, "unknown_methodology", "(calculator) a preset or table id the catalogue does not hold";
    UnknownMode = 422, "unknown_mode", "(calculator) a travel mode the preset does not define";
    TooManyItems = 422, "too_many_items", "(calculator) a list longer than its limit";
    TooFewItems = 422, "too_few_items", "(calculator) a list shorter than its minimum";
    InvalidMethodology = 422, "invalid_methodology", "(calculator) methodology tables that are inconsistent or conflict with loaded ones";
    RateLimited = 429, "rate_limited", "wait `Retry-After` seconds";
    HeadersTooLarge = 431, "headers_too_large", "the request's headers are over the limit (16 KiB in all by default, `max_header_bytes`)";
    Internal = 500, "internal", "our bug; quote the `x-request-id` response header when you report it";
    Unavailable = 503, "unavailable", "the server cannot do it just now (database unreachable, a feature switched off): retry after `Retry-After` seconds";
}

impl From<carbon_calc::error::ErrorCode> for ProblemCode {
    /// The calculator's codes are the server's: the same mistake gets the
    /// same code online and offline.
    fn from(code: carbon_calc::error::ErrorCode) -> Self {
        use carbon_calc::error::ErrorCode as C;
        match code {
            C::InvalidJson => ProblemCode::InvalidJson,
            C::MissingField => ProblemCode::MissingField,
            C::UnknownField => ProblemCode::UnknownField,
            C::InvalidValue => ProblemCode::InvalidValue,
            C::OutOfRange => ProblemCode::OutOfRange,
            C::UnknownMethodology => ProblemCode::UnknownMethodology,
            C::UnknownMode => ProblemCode::UnknownMode,
            C::TooManyItems => ProblemCode::TooManyItems,
            C::TooFewItems => ProblemCode::TooFewItems,
            C::InvalidMethodology => ProblemCode::InvalidMethodology,
        }
    }
}

impl serde::Serialize for ProblemCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The guide's table of codes (Markdown), as `tanpuhui problems` prints it.
pub fn table() -> String {
    let mut out = String::from("| status | code | meaning |\n|---|---|---|\n");
    for code in ProblemCode::ALL {
        out.push_str(&format!(
            "| {} | `{}` | {} |\n",
            code.status(),
            code.as_str(),
            code.meaning()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_in_status_order() {
        let mut seen = std::collections::HashSet::new();
        for pair in ProblemCode::ALL.windows(2) {
            assert!(pair[0].status() <= pair[1].status(), "{pair:?}");
        }
        for code in ProblemCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{s}"
            );
        }
    }

    #[test]
    fn the_mobile_guide_lists_every_code() {
        let guide = include_str!("../../mobile-api-spec/README.md");
        let start = "-->\n";
        let begin = guide
            .find("<!-- problem codes:")
            .and_then(|i| guide[i..].find(start).map(|j| i + j + start.len()))
            .expect("the guide marks its problem-code table");
        let end = guide[begin..]
            .find("<!-- end of problem codes -->")
            .expect("the table's end is marked")
            + begin;
        assert!(
            guide[begin..end] == table(),
            "the problem-code table of mobile-api-spec/README.md is out of date: \
             put the output of `cargo run -q --bin tanpuhui -- problems` between its markers"
        );
    }

    #[test]
    fn calculator_codes_keep_their_names() {
        use carbon_calc::error::ErrorCode as C;
        for c in [
            C::InvalidJson,
            C::MissingField,
            C::UnknownField,
            C::InvalidValue,
            C::OutOfRange,
            C::UnknownMethodology,
            C::UnknownMode,
            C::TooManyItems,
            C::TooFewItems,
            C::InvalidMethodology,
        ] {
            assert_eq!(ProblemCode::from(c).as_str(), c.as_str());
        }
    }
}
