//! EC2 security groups as the product first shipped them: a validated model of one
//! account's groups and their inbound rules, exact admission of traffic, a tier-level
//! [`FlowMatrix`] that tells a simulation which required flows are up from counts of
//! healthy instances, and an [`audit`] that points at missing, risky or needless rules.
//!
//! # Semantics
//!
//! - Rules are inbound only, and whatever no rule admits is denied.
//! - A rule names a protocol (tcp, udp, icmp), ports (tcp and udp: one port or a range;
//!   icmp: none, a rule admits all of ICMP) and a source: an IPv4 address range, a group
//!   of the same account, or a group of another account, named `(account, group)`.
//! - An instance has one or more groups, fixed at launch. It admits traffic if **any**
//!   of its groups has a rule that admits it.
//! - Being a member of a group grants nothing by itself: two members of a group reach
//!   each other only if some rule names that group as a source.
//! - The default group, `"default"`, always exists as group 0 and starts with three
//!   built-in rules (rules 0 to 2): `tcp 0-65535`, `udp 0-65535` and `icmp`, each from
//!   group default, so its members reach each other on everything. Rules given for it
//!   follow from rule 3.
//! - An account has at most [`MAX_GROUPS`] groups, the default group included.
//!
//! # Addresses
//!
//! Every instance has a private address, and usually a public one. Traffic sent to a
//! destination's private address carries the sender's groups: group sources and address
//! ranges covering the sender's private address both apply. Traffic sent to a public
//! address leaves the cloud's private network and comes back in from the sender's
//! public address: only an address range covering that address admits it, never a
//! group. Flows between tiers are evaluated over private addresses, which is how
//! instances talk to each other (the private route is also shorter and free), unless a
//! flow is sent over public addresses ([`Flow::over`]).
//!
//! An instance's private address is chosen by the cloud at launch, from
//! [`EC2_PRIVATE_NETWORK`] unless a [`Profile`] says otherwise, so it is not known in
//! advance: an address-range rule admits a profile's instances only if it covers the
//! whole range their addresses are drawn from. So is its public address, from the
//! cloud's pool — any address, as far as a rule can know — unless the profile's
//! instances hold elastic addresses in a known range ([`Profile::with_public_range`]).
//! The internet is treated the same way: it is a range of client addresses,
//! [`Cidr::ANY`] by default, meaning "any address", so only a rule whose range contains
//! every address (a `/0` rule) admits "the internet". A caller who knows its clients
//! come from a narrower range passes that range.
//!
//! # Choices
//!
//! - An address range with bits set beyond its prefix (`10.0.0.1/8`) is rejected, not
//!   silently widened: it is usually a typo for a `/32` or for the range's first address,
//!   and widening would admit more than was written. The error names the range it falls
//!   in.
//! - Rules are numbered from 0 within their group, as indices.
//! - Group names are 1 to 255 characters without control characters. The text form of
//!   rules (`tcp 8080 from group web`) cannot name a group whose name contains spaces;
//!   [`RuleSpec`] values can.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::Ipv4Addr;
use std::ops::Range;
use std::str::FromStr;

/// Most groups an account may have, the default group included.
pub const MAX_GROUPS: usize = 100;

/// The name of the group every account has.
pub const DEFAULT_GROUP: &str = "default";

/// Longest group name, in characters.
pub const MAX_GROUP_NAME_CHARS: usize = 255;

/// The ssh port.
pub const SSH_PORT: u16 = 22;

/// Well-known database ports and the databases that listen on them.
pub const DATABASE_PORTS: [(u16, &str); 6] = [
    (3306, "MySQL"),
    (5432, "PostgreSQL"),
    (1433, "SQL Server"),
    (1521, "Oracle"),
    (27017, "MongoDB"),
    (6379, "Redis"),
];

/// The private network instances' private addresses are drawn from: 10.0.0.0/8.
pub const EC2_PRIVATE_NETWORK: Cidr = Cidr {
    addr: 10 << 24,
    prefix: 8,
};

/// How many built-in rules the default group starts with.
const BUILTIN_RULES: usize = 3;

/// Why a security model, a rule or a flow layout is invalid: a sentence naming the
/// offending item and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityError(pub String);

impl fmt::Display for SecurityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SecurityError {}

fn invalid<T>(message: String) -> Result<T, SecurityError> {
    Err(SecurityError(message))
}

/// Prefixes an error with the item it concerns, e.g. `group "db" rule 1: ...`.
fn within(item: &str) -> impl FnOnce(SecurityError) -> SecurityError + '_ {
    move |error| SecurityError(format!("{item}: {}", error.0))
}

// ---------------------------------------------------------------------------------------
// Addresses and ports

/// An IPv4 address range in CIDR notation, e.g. `10.0.0.0/8`. Its address has no bits
/// set beyond the prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    addr: u32,
    prefix: u8,
}

impl Cidr {
    /// Every address: `0.0.0.0/0`.
    pub const ANY: Cidr = Cidr { addr: 0, prefix: 0 };

    /// The range of `prefix` leading bits of `addr`; rejects a prefix above 32 and an
    /// address with bits set beyond the prefix.
    pub fn new(addr: u32, prefix: u8) -> Result<Cidr, SecurityError> {
        if prefix > 32 {
            return invalid(format!("prefix /{prefix} is longer than 32 bits"));
        }
        let range = Cidr {
            addr: addr & mask(prefix),
            prefix,
        };
        if range.addr != addr {
            return invalid(format!(
                "{} has bits set beyond its /{prefix} prefix (the range it falls in is {range})",
                Ipv4Addr::from(addr)
            ));
        }
        Ok(range)
    }

    /// The range of one address (`/32`).
    pub fn host(addr: u32) -> Cidr {
        Cidr { addr, prefix: 32 }
    }

    /// The range's first address.
    pub fn address(&self) -> u32 {
        self.addr
    }

    /// The number of leading bits fixed by the range.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `addr` is in the range.
    pub fn contains(&self, addr: u32) -> bool {
        addr & mask(self.prefix) == self.addr
    }

    /// Whether every address of `other` is in the range.
    pub fn contains_range(&self, other: &Cidr) -> bool {
        self.prefix <= other.prefix && self.contains(other.addr)
    }

    /// Whether the range holds every address (`/0`).
    pub fn is_any(&self) -> bool {
        self.prefix == 0
    }
}

fn mask(prefix: u8) -> u32 {
    match prefix {
        0 => 0,
        _ => u32::MAX << (32 - u32::from(prefix)),
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.addr), self.prefix)
    }
}

impl FromStr for Cidr {
    type Err = SecurityError;

    /// Parses `a.b.c.d/n`: four decimal octets from 0 to 255 without leading zeros, and
    /// a prefix from 0 to 32.
    fn from_str(text: &str) -> Result<Cidr, SecurityError> {
        let context = format!("address range \"{text}\"");
        let Some((address, prefix)) = text.split_once('/') else {
            return invalid(format!(
                "{context} has no /prefix (write {text}/32 for one address)"
            ));
        };
        let addr = parse_address(address).map_err(within(&context))?;
        let prefix = parse_prefix(prefix).map_err(within(&context))?;
        Cidr::new(addr, prefix).map_err(within(&context))
    }
}

/// Parses a dotted IPv4 address such as `203.0.113.5`.
pub fn parse_address(text: &str) -> Result<u32, SecurityError> {
    let octets: Vec<&str> = text.split('.').collect();
    if octets.len() != 4 {
        return invalid(format!(
            "\"{text}\" is not an IPv4 address: it has {} dot-separated parts, not 4",
            octets.len()
        ));
    }
    let mut addr = 0u32;
    for (position, octet) in octets.iter().enumerate() {
        addr = addr << 8 | u32::from(parse_octet(position, octet)?);
    }
    Ok(addr)
}

fn is_decimal(text: &str) -> bool {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    digits && (text.len() == 1 || !text.starts_with('0'))
}

fn parse_octet(position: usize, octet: &str) -> Result<u8, SecurityError> {
    match octet.parse::<u8>() {
        Ok(value) if is_decimal(octet) => Ok(value),
        _ => invalid(format!(
            "octet {} (\"{octet}\") is not a number from 0 to 255 without leading zeros",
            position + 1
        )),
    }
}

fn parse_prefix(text: &str) -> Result<u8, SecurityError> {
    match text.parse::<u8>() {
        Ok(prefix) if is_decimal(text) && prefix <= 32 => Ok(prefix),
        _ => invalid(format!("prefix \"{text}\" is not a number from 0 to 32")),
    }
}

/// A transport protocol a rule admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    Tcp,
    Udp,
    Icmp,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Icmp => "icmp",
        })
    }
}

impl FromStr for Protocol {
    type Err = SecurityError;

    fn from_str(text: &str) -> Result<Protocol, SecurityError> {
        match text {
            "tcp" => Ok(Protocol::Tcp),
            "udp" => Ok(Protocol::Udp),
            "icmp" => Ok(Protocol::Icmp),
            _ => invalid(format!("\"{text}\" is not a protocol (tcp, udp or icmp)")),
        }
    }
}

/// An inclusive range of ports, `lo <= hi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    lo: u16,
    hi: u16,
}

impl PortRange {
    /// Every port, 0 to 65535. The ports of an icmp rule.
    pub const ALL: PortRange = PortRange {
        lo: 0,
        hi: u16::MAX,
    };

    /// Ports `lo` to `hi` inclusive; rejects a reversed range.
    pub fn new(lo: u16, hi: u16) -> Result<PortRange, SecurityError> {
        if lo > hi {
            return invalid(format!(
                "port range {lo}-{hi} is reversed (the first port must not exceed the last)"
            ));
        }
        Ok(PortRange { lo, hi })
    }

    /// One port.
    pub fn single(port: u16) -> PortRange {
        PortRange { lo: port, hi: port }
    }

    /// The first port.
    pub fn lo(&self) -> u16 {
        self.lo
    }

    /// The last port.
    pub fn hi(&self) -> u16 {
        self.hi
    }

    /// Whether `port` is in the range.
    pub fn contains(&self, port: u16) -> bool {
        (self.lo..=self.hi).contains(&port)
    }

    /// How many ports the range holds.
    pub fn count(&self) -> u32 {
        u32::from(self.hi) - u32::from(self.lo) + 1
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lo == self.hi {
            write!(f, "{}", self.lo)
        } else {
            write!(f, "{}-{}", self.lo, self.hi)
        }
    }
}

impl FromStr for PortRange {
    type Err = SecurityError;

    /// Parses `80` or `6000-6010`.
    fn from_str(text: &str) -> Result<PortRange, SecurityError> {
        match text.split_once('-') {
            None => parse_port(text).map(PortRange::single),
            Some((lo, hi)) => PortRange::new(parse_port(lo)?, parse_port(hi)?),
        }
    }
}

fn parse_port(text: &str) -> Result<u16, SecurityError> {
    match text.parse::<u16>() {
        Ok(port) if is_decimal(text) => Ok(port),
        _ => invalid(format!("port \"{text}\" is not a number from 0 to 65535")),
    }
}

// ---------------------------------------------------------------------------------------
// Rules and groups

/// A group of the model's account, by index. Group 0 is the default group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(usize);

impl GroupId {
    /// The default group.
    pub const DEFAULT: GroupId = GroupId(0);

    /// The group's index in [`SecurityModel::groups`].
    pub fn index(self) -> usize {
        self.0
    }
}

/// A group named as a rule's source.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GroupRef {
    /// A group of the model's account (its name kept for messages).
    Own { id: GroupId, name: String },
    /// A group of another account, kept by name: that account's groups are not known.
    Other { account: String, name: String },
}

/// Where a rule admits traffic from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    /// Senders whose visible address is in the range.
    Cidr(Cidr),
    /// Instances of the group, sending to a private address.
    Group(GroupRef),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Cidr(range) => write!(f, "{range}"),
            Source::Group(GroupRef::Own { name, .. }) => write!(f, "group {name}"),
            Source::Group(GroupRef::Other { account, name }) => {
                write!(f, "group {name} of account {account}")
            }
        }
    }
}

/// An inbound rule of a group, with its source resolved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    protocol: Protocol,
    ports: PortRange,
    source: Source,
}

impl Rule {
    /// The protocol admitted.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The ports admitted ([`PortRange::ALL`] for icmp, which has none).
    pub fn ports(&self) -> PortRange {
        self.ports
    }

    /// Where traffic is admitted from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// Whether the rule admits this protocol and port, whoever sends it (the port is
    /// ignored for icmp).
    pub fn admits_traffic(&self, protocol: Protocol, port: u16) -> bool {
        self.protocol == protocol && (protocol == Protocol::Icmp || self.ports.contains(port))
    }

    fn admits_any_of(&self, protocol: Protocol, ports: &[u16]) -> bool {
        ports
            .iter()
            .any(|&port| self.admits_traffic(protocol, port))
    }
}

fn write_rule(
    f: &mut fmt::Formatter<'_>,
    protocol: Protocol,
    ports: PortRange,
    source: &dyn fmt::Display,
) -> fmt::Result {
    match protocol {
        Protocol::Icmp => write!(f, "icmp from {source}"),
        _ => write!(f, "{protocol} {ports} from {source}"),
    }
}

impl fmt::Display for Rule {
    /// `tcp 8080 from group web`, `tcp 22 from 203.0.113.0/24`, `icmp from group default`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_rule(f, self.protocol, self.ports, &self.source)
    }
}

/// A security group: a name and its inbound rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    name: String,
    rules: Vec<Rule>,
}

impl Group {
    /// The group's name, unique in its account.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The group's rules, numbered by index.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }
}

/// A rule's source as written, before group names are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    Cidr(Cidr),
    /// A group of the model's account, by name.
    Group(String),
    /// A group of some account, by (account, group name).
    AccountGroup {
        account: String,
        group: String,
    },
}

impl fmt::Display for SourceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceSpec::Cidr(range) => write!(f, "{range}"),
            SourceSpec::Group(name) => write!(f, "group {name}"),
            SourceSpec::AccountGroup { account, group } => {
                write!(f, "group {group} of account {account}")
            }
        }
    }
}

/// A rule as written, before group names are resolved. Its text form is
/// `PROTOCOL [PORTS] from SOURCE`: `tcp 80 from 0.0.0.0/0`, `udp 6000-6010 from
/// 10.0.0.0/8`, `tcp 8080 from group web`, `tcp 8080 from group web of account partner`,
/// `icmp from group default` (icmp takes no ports; tcp and udp need them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSpec {
    protocol: Protocol,
    ports: PortRange,
    source: SourceSpec,
}

impl RuleSpec {
    /// A tcp or udp rule.
    pub fn new(
        protocol: Protocol,
        ports: PortRange,
        source: SourceSpec,
    ) -> Result<RuleSpec, SecurityError> {
        if protocol == Protocol::Icmp {
            return invalid("icmp takes no ports: use RuleSpec::icmp".to_owned());
        }
        Ok(RuleSpec {
            protocol,
            ports,
            source,
        })
    }

    /// An icmp rule (all of ICMP).
    pub fn icmp(source: SourceSpec) -> RuleSpec {
        RuleSpec {
            protocol: Protocol::Icmp,
            ports: PortRange::ALL,
            source,
        }
    }

    /// Where the rule admits traffic from, as written.
    pub fn source(&self) -> &SourceSpec {
        &self.source
    }
}

impl fmt::Display for RuleSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_rule(f, self.protocol, self.ports, &self.source)
    }
}

impl FromStr for RuleSpec {
    type Err = SecurityError;

    fn from_str(text: &str) -> Result<RuleSpec, SecurityError> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let Some((first, rest)) = words.split_first() else {
            return invalid("an empty rule (expected e.g. \"tcp 80 from 0.0.0.0/0\")".to_owned());
        };
        let protocol: Protocol = first.parse()?;
        let (ports, rest) = parse_rule_ports(protocol, rest)?;
        let source = match rest.split_first() {
            Some((&"from", source)) => parse_source(source)?,
            _ => return invalid(format!("expected \"from\" after \"{protocol} {ports}\"")),
        };
        Ok(RuleSpec {
            protocol,
            ports,
            source,
        })
    }
}

fn parse_rule_ports<'w>(
    protocol: Protocol,
    words: &'w [&'w str],
) -> Result<(PortRange, &'w [&'w str]), SecurityError> {
    match (protocol, words.split_first()) {
        (Protocol::Icmp, Some((&"from", _))) => Ok((PortRange::ALL, words)),
        (Protocol::Icmp, _) => invalid("icmp takes no ports (write \"icmp from ...\")".to_owned()),
        (_, Some((ports, rest))) if *ports != "from" => Ok((ports.parse()?, rest)),
        _ => invalid(format!(
            "{protocol} needs a port or a port range, e.g. \"{protocol} 80\" or \"{protocol} 6000-6010\""
        )),
    }
}

fn parse_source(words: &[&str]) -> Result<SourceSpec, SecurityError> {
    match words {
        [range] => Ok(SourceSpec::Cidr(range.parse()?)),
        ["group", name] => Ok(SourceSpec::Group((*name).to_owned())),
        ["group", name, "of", "account", account] => Ok(SourceSpec::AccountGroup {
            account: (*account).to_owned(),
            group: (*name).to_owned(),
        }),
        _ => invalid(format!(
            "source \"{}\" is neither an address range (10.0.0.0/8), \"group NAME\" nor \"group NAME of account ACCOUNT\"",
            words.join(" ")
        )),
    }
}

// ---------------------------------------------------------------------------------------
// The model

/// One account's security groups, validated: names are unique, there are at most
/// [`MAX_GROUPS`], and every rule's source names an existing group of the account (or a
/// group of another account, kept by name). Group 0 is the default group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityModel {
    account: String,
    groups: Vec<Group>,
}

/// Builds a [`SecurityModel`]; groups may name each other in any order.
#[derive(Debug, Clone)]
pub struct SecurityModelBuilder {
    account: String,
    groups: Vec<PendingGroup>,
}

#[derive(Debug, Clone)]
struct PendingGroup {
    name: String,
    rules: Vec<Result<RuleSpec, SecurityError>>,
}

impl SecurityModelBuilder {
    /// Declares a group with rules in text form (see [`RuleSpec`]); text that does not
    /// parse is reported by [`build`](Self::build), naming the group and the rule.
    /// Declaring `"default"` adds rules to the default group after its built-in ones.
    pub fn group(mut self, name: &str, rules: &[&str]) -> Self {
        let rules = rules.iter().map(|text| text.parse()).collect();
        self.groups.push(PendingGroup {
            name: name.to_owned(),
            rules,
        });
        self
    }

    /// Declares a group with rules given as values.
    pub fn group_with(mut self, name: &str, rules: Vec<RuleSpec>) -> Self {
        self.groups.push(PendingGroup {
            name: name.to_owned(),
            rules: rules.into_iter().map(Ok).collect(),
        });
        self
    }

    /// Checks the account and the groups and resolves every rule's source.
    pub fn build(self) -> Result<SecurityModel, SecurityError> {
        check_name("account", &self.account)?;
        self.check_group_names()?;
        self.check_group_count()?;
        let ids = self.group_ids();
        let groups = self
            .layout()
            .into_iter()
            .map(|(name, pending)| self.resolve_group(name, pending, &ids))
            .collect::<Result<Vec<Group>, SecurityError>>()?;
        Ok(SecurityModel {
            account: self.account,
            groups,
        })
    }

    fn check_group_names(&self) -> Result<(), SecurityError> {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (index, group) in self.groups.iter().enumerate() {
            check_name("group", &group.name)?;
            if let Some(first) = seen.insert(&group.name, index) {
                return invalid(format!(
                    "group \"{}\" is declared twice (declarations {first} and {index})",
                    group.name
                ));
            }
        }
        Ok(())
    }

    fn declares_default(&self) -> bool {
        self.groups.iter().any(|group| group.name == DEFAULT_GROUP)
    }

    fn check_group_count(&self) -> Result<(), SecurityError> {
        let count = self.groups.len() + usize::from(!self.declares_default());
        if count > MAX_GROUPS {
            return invalid(format!(
                "account \"{}\" has {count} groups, the default group included; at most {MAX_GROUPS} are allowed per account",
                self.account
            ));
        }
        Ok(())
    }

    /// The groups in model order: the default group (with its declaration, if any),
    /// then the others in declaration order.
    fn layout(&self) -> Vec<(&str, Option<&PendingGroup>)> {
        let declared_default = self.groups.iter().find(|g| g.name == DEFAULT_GROUP);
        let others = self.groups.iter().filter(|g| g.name != DEFAULT_GROUP);
        std::iter::once((DEFAULT_GROUP, declared_default))
            .chain(others.map(|g| (g.name.as_str(), Some(g))))
            .collect()
    }

    fn group_ids(&self) -> HashMap<&str, GroupId> {
        self.layout()
            .into_iter()
            .enumerate()
            .map(|(index, (name, _))| (name, GroupId(index)))
            .collect()
    }

    fn resolve_group(
        &self,
        name: &str,
        pending: Option<&PendingGroup>,
        ids: &HashMap<&str, GroupId>,
    ) -> Result<Group, SecurityError> {
        let mut rules = if name == DEFAULT_GROUP {
            default_group_rules()
        } else {
            Vec::new()
        };
        for spec in pending.iter().flat_map(|p| &p.rules) {
            let item = format!("group \"{name}\" rule {}", rules.len());
            let spec = spec.clone().map_err(within(&item))?;
            let source = self.resolve_source(&spec.source, ids);
            let source = source.map_err(within(&format!("{item} ({spec})")))?;
            rules.push(Rule {
                protocol: spec.protocol,
                ports: spec.ports,
                source,
            });
        }
        Ok(Group {
            name: name.to_owned(),
            rules,
        })
    }

    fn resolve_source(
        &self,
        source: &SourceSpec,
        ids: &HashMap<&str, GroupId>,
    ) -> Result<Source, SecurityError> {
        match source {
            SourceSpec::Cidr(range) => Ok(Source::Cidr(*range)),
            SourceSpec::Group(name) => self.own_group(name, ids),
            SourceSpec::AccountGroup { account, group } if *account == self.account => {
                self.own_group(group, ids)
            }
            SourceSpec::AccountGroup { account, group } => {
                check_name("account", account)?;
                check_name("group", group)?;
                Ok(Source::Group(GroupRef::Other {
                    account: account.clone(),
                    name: group.clone(),
                }))
            }
        }
    }

    fn own_group(&self, name: &str, ids: &HashMap<&str, GroupId>) -> Result<Source, SecurityError> {
        match ids.get(name) {
            Some(&id) => Ok(Source::Group(GroupRef::Own {
                id,
                name: name.to_owned(),
            })),
            None => invalid(format!(
                "account \"{}\" has no group \"{name}\"",
                self.account
            )),
        }
    }
}

fn check_name(kind: &str, name: &str) -> Result<(), SecurityError> {
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_GROUP_NAME_CHARS {
        return invalid(format!(
            "{kind} name \"{name}\" must have 1 to {MAX_GROUP_NAME_CHARS} characters, not {chars}"
        ));
    }
    if name.chars().any(char::is_control) {
        return invalid(format!("{kind} name {name:?} contains a control character"));
    }
    Ok(())
}

/// The default group's built-in rules: everything from its own members.
fn default_group_rules() -> Vec<Rule> {
    let source = Source::Group(GroupRef::Own {
        id: GroupId::DEFAULT,
        name: DEFAULT_GROUP.to_owned(),
    });
    [Protocol::Tcp, Protocol::Udp, Protocol::Icmp]
        .into_iter()
        .map(|protocol| Rule {
            protocol,
            ports: PortRange::ALL,
            source: source.clone(),
        })
        .collect()
}

/// Where traffic comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender<'a> {
    /// Clients somewhere in an address range, not known more precisely: a rule admits
    /// them only if its range covers the whole range. See [`Sender::INTERNET`].
    Addresses(Cidr),
    /// An instance.
    Instance(InstanceSender<'a>),
}

impl Sender<'static> {
    /// Any address on the internet: admitted only by `/0` rules.
    pub const INTERNET: Sender<'static> = Sender::Addresses(Cidr::ANY);

    /// A host with a known address.
    pub fn address(addr: u32) -> Sender<'static> {
        Sender::Addresses(Cidr::host(addr))
    }
}

/// An instance sending traffic: its account and groups, its addresses, and which of
/// the destination's addresses it sends to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceSender<'a> {
    pub membership: Membership<'a>,
    pub private_address: u32,
    pub public_address: Option<u32>,
    pub via: Via,
}

/// The groups an instance was launched with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership<'a> {
    /// Groups of the model's account.
    Own(&'a [GroupId]),
    /// Groups of an account, by name (the model's own account may be named too).
    Account {
        account: &'a str,
        groups: &'a [&'a str],
    },
}

/// Which of the destination's addresses traffic is sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Via {
    /// The private address: the destination sees the sender's groups and private address.
    Private,
    /// The public address: the destination sees only the sender's public address, and
    /// a sender without one cannot send there.
    Public,
}

/// What a destination sees of a sender: the range its address is known to lie in, and
/// its groups when it sends over the private network.
#[derive(Debug, Clone, Copy)]
struct Seen<'a> {
    addresses: Cidr,
    membership: Option<Membership<'a>>,
}

impl<'a> Sender<'a> {
    fn seen(&self) -> Option<Seen<'a>> {
        match *self {
            Sender::Addresses(addresses) => Some(Seen {
                addresses,
                membership: None,
            }),
            Sender::Instance(instance) => instance.seen(),
        }
    }
}

impl<'a> InstanceSender<'a> {
    fn seen(&self) -> Option<Seen<'a>> {
        match self.via {
            Via::Private => Some(Seen {
                addresses: Cidr::host(self.private_address),
                membership: Some(self.membership),
            }),
            Via::Public => self.public_address.map(|addr| Seen {
                addresses: Cidr::host(addr),
                membership: None,
            }),
        }
    }
}

impl SecurityModel {
    /// A builder for `account`'s groups.
    pub fn builder(account: &str) -> SecurityModelBuilder {
        SecurityModelBuilder {
            account: account.to_owned(),
            groups: Vec::new(),
        }
    }

    /// The account the groups belong to.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// Every group, the default group first.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// One group.
    pub fn group(&self, id: GroupId) -> &Group {
        &self.groups[id.0]
    }

    /// The group of that name, if any.
    pub fn group_id(&self, name: &str) -> Option<GroupId> {
        self.groups.iter().position(|g| g.name == name).map(GroupId)
    }

    /// Whether a rule is one of the default group's built-in rules.
    pub fn is_builtin(&self, group: GroupId, rule: usize) -> bool {
        group == GroupId::DEFAULT && rule < BUILTIN_RULES
    }

    /// A rule in words: `group "db" rule 1 (tcp 3306 from 0.0.0.0/0)`.
    pub fn describe_rule(&self, group: GroupId, rule: usize) -> String {
        let g = self.group(group);
        format!("group \"{}\" rule {rule} ({})", g.name, g.rules[rule])
    }

    /// Whether traffic (protocol, port) from `sender` is admitted by an instance whose
    /// groups are `dest_groups` (the port is ignored for icmp).
    pub fn admits(
        &self,
        dest_groups: &[GroupId],
        protocol: Protocol,
        port: u16,
        sender: &Sender,
    ) -> bool {
        self.admitting_rule(dest_groups, protocol, port, sender)
            .is_some()
    }

    /// The first rule, as (group, rule index), that admits the traffic: groups in the
    /// order given, rules in their order.
    pub fn admitting_rule(
        &self,
        dest_groups: &[GroupId],
        protocol: Protocol,
        port: u16,
        sender: &Sender,
    ) -> Option<(GroupId, usize)> {
        let seen = sender.seen()?;
        self.first_rule(dest_groups, &seen, |rule| {
            rule.admits_traffic(protocol, port)
        })
    }

    /// Every rule of `groups`, as (group, index, rule); ids from another model are
    /// skipped.
    fn rules_of<'m>(
        &'m self,
        groups: &'m [GroupId],
    ) -> impl Iterator<Item = (GroupId, usize, &'m Rule)> + 'm {
        groups
            .iter()
            .filter_map(|&id| self.groups.get(id.0).map(|group| (id, group)))
            .flat_map(|(id, group)| {
                group
                    .rules
                    .iter()
                    .enumerate()
                    .map(move |(index, rule)| (id, index, rule))
            })
    }

    /// The first rule of `groups` that admits `seen` and passes `wanted`.
    fn first_rule(
        &self,
        groups: &[GroupId],
        seen: &Seen,
        wanted: impl Fn(&Rule) -> bool,
    ) -> Option<(GroupId, usize)> {
        self.rules_of(groups)
            .find(|(_, _, rule)| wanted(rule) && self.source_matches(&rule.source, seen))
            .map(|(group, index, _)| (group, index))
    }

    fn source_matches(&self, source: &Source, seen: &Seen) -> bool {
        match source {
            Source::Cidr(range) => range.contains_range(&seen.addresses),
            Source::Group(group) => seen
                .membership
                .is_some_and(|membership| self.is_member(&membership, group)),
        }
    }

    fn is_member(&self, membership: &Membership, group: &GroupRef) -> bool {
        match (group, membership) {
            (GroupRef::Own { id, .. }, Membership::Own(ids)) => ids.contains(id),
            (GroupRef::Own { name, .. }, Membership::Account { account, groups }) => {
                *account == self.account && groups.contains(&name.as_str())
            }
            (GroupRef::Other { .. }, Membership::Own(_)) => false,
            (GroupRef::Other { account, name }, Membership::Account { account: a, groups }) => {
                *a == account.as_str() && groups.contains(&name.as_str())
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Tiers, flows and the flow matrix

/// What the instances of one kind were launched with: their groups, the range their
/// private addresses are drawn from ([`EC2_PRIVATE_NETWORK`] unless set), and the range
/// their public addresses lie in ([`Cidr::ANY`] unless set: addresses from the cloud's
/// pool, not known in advance; elastic addresses are known, and can be given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    groups: Vec<GroupId>,
    private_range: Cidr,
    public_range: Cidr,
}

impl Profile {
    /// Instances launched with these groups (order and repeats do not matter).
    pub fn new(groups: &[GroupId]) -> Profile {
        let mut groups = groups.to_vec();
        groups.sort_unstable();
        groups.dedup();
        Profile {
            groups,
            private_range: EC2_PRIVATE_NETWORK,
            public_range: Cidr::ANY,
        }
    }

    /// The same instances, with private addresses drawn from `range`.
    pub fn with_private_range(self, range: Cidr) -> Profile {
        Profile {
            private_range: range,
            ..self
        }
    }

    /// The groups, sorted.
    pub fn groups(&self) -> &[GroupId] {
        &self.groups
    }

    /// The range the instances' private addresses are drawn from.
    pub fn private_range(&self) -> Cidr {
        self.private_range
    }

    /// The same instances, with public (elastic) addresses in `range`.
    pub fn with_public_range(self, range: Cidr) -> Profile {
        Profile {
            public_range: range,
            ..self
        }
    }

    /// The range the instances' public addresses lie in.
    pub fn public_range(&self) -> Cidr {
        self.public_range
    }

    /// How an instance of the profile appears when it sends to a private address.
    fn seen(&self) -> Seen<'_> {
        Seen {
            addresses: self.private_range,
            membership: Some(Membership::Own(&self.groups)),
        }
    }

    /// How an instance of the profile appears when it sends to a public address: by
    /// its public address alone.
    fn seen_public(&self) -> Seen<'_> {
        Seen {
            addresses: self.public_range,
            membership: None,
        }
    }
}

/// A tier of the application: a name and the profiles of its instances (instances of a
/// tier may have been launched with different groups).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    name: String,
    profiles: Vec<Profile>,
}

impl Tier {
    /// A tier named `name` whose instances have these profiles.
    pub fn new(name: &str, profiles: Vec<Profile>) -> Tier {
        Tier {
            name: name.to_owned(),
            profiles,
        }
    }

    /// The tier's name, used in findings.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The profiles of the tier's instances.
    pub fn profiles(&self) -> &[Profile] {
        &self.profiles
    }
}

/// Where a flow starts: the internet (clients anywhere, always present) or a tier, by
/// index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    Internet,
    Tier(usize),
}

/// Traffic the application needs: from an origin to a tier (by index), on a protocol and
/// port (ignored for icmp), sent to the destination's private or public addresses.
/// Flows between tiers go to private addresses unless set otherwise
/// ([`Flow::over`]); flows from the internet always arrive at public addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Flow {
    pub from: Origin,
    pub to: usize,
    pub protocol: Protocol,
    pub port: u16,
    /// Which of the destination's addresses the traffic is sent to. Over public
    /// addresses a tier's instances are seen by their public addresses only
    /// ([`Profile::public_range`]), so only address-range rules admit them.
    pub via: Via,
}

impl Flow {
    /// A flow from the internet to a tier.
    pub fn from_internet(to: usize, protocol: Protocol, port: u16) -> Flow {
        Flow {
            from: Origin::Internet,
            to,
            protocol,
            port,
            via: Via::Public,
        }
    }

    /// A flow from one tier to another (or to itself), over private addresses.
    pub fn between(from: usize, to: usize, protocol: Protocol, port: u16) -> Flow {
        Flow {
            from: Origin::Tier(from),
            to,
            protocol,
            port,
            via: Via::Private,
        }
    }

    /// The same flow sent to the destination's `via` addresses (no change for a flow
    /// from the internet, which always arrives at public addresses).
    pub fn over(self, via: Via) -> Flow {
        match self.from {
            Origin::Internet => self,
            Origin::Tier(_) => Flow { via, ..self },
        }
    }
}

/// A (source profile, destination profile) pair whose traffic a flow's destination
/// admits, and the first rule that admits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdmittedPair {
    /// The source profile; `None` for the internet.
    pub source: Option<usize>,
    pub dest: usize,
    pub rule: (GroupId, usize),
}

/// For each required flow, the (source profile, destination profile) pairs admitted,
/// computed once. Profiles are numbered across tiers in order: tier 0's profiles, then
/// tier 1's, and so on ([`FlowMatrix::profiles_of`]).
///
/// A flow is up when some healthy source instance can reach some healthy destination
/// instance that admits it: some admitted pair has a healthy instance on both sides. The
/// internet is always there. Within one tier an instance does not count as its own
/// peer: a pair of one profile with itself needs two healthy instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowMatrix {
    tier_profiles: Vec<Range<usize>>,
    pairs: Vec<Vec<AdmittedPair>>,
    touching: Vec<Vec<usize>>,
}

impl FlowMatrix {
    /// Checks the tiers and flows against the model and evaluates every pair.
    /// `internet` is the range internet clients come from ([`Cidr::ANY`]: any address).
    pub fn new(
        model: &SecurityModel,
        tiers: &[Tier],
        flows: &[Flow],
        internet: Cidr,
    ) -> Result<FlowMatrix, SecurityError> {
        check_tiers(model, tiers)?;
        check_flows(tiers, flows)?;
        let tier_profiles = profile_ranges(tiers);
        let profiles: Vec<&Profile> = tiers.iter().flat_map(|t| &t.profiles).collect();
        let layout = Layout {
            model,
            profiles: &profiles,
            tier_profiles: &tier_profiles,
            internet,
        };
        let pairs: Vec<Vec<AdmittedPair>> = flows
            .iter()
            .map(|flow| layout.admitted_pairs(flow))
            .collect();
        let touching = flows_by_profile(&pairs, profiles.len());
        Ok(FlowMatrix {
            tier_profiles,
            pairs,
            touching,
        })
    }

    /// How many profiles there are, across tiers.
    pub fn profile_count(&self) -> usize {
        self.touching.len()
    }

    /// The profile numbers of a tier.
    pub fn profiles_of(&self, tier: usize) -> Range<usize> {
        self.tier_profiles[tier].clone()
    }

    /// The admitted pairs of a flow (empty: the flow can never be up).
    pub fn admitted_pairs(&self, flow: usize) -> &[AdmittedPair] {
        &self.pairs[flow]
    }

    /// Whether a flow is up given the number of healthy instances of each profile.
    pub fn flow_up(&self, flow: usize, healthy_per_profile: &[u32]) -> bool {
        assert_eq!(
            healthy_per_profile.len(),
            self.profile_count(),
            "one healthy count per profile"
        );
        self.pairs[flow]
            .iter()
            .any(|pair| pair_up(pair, healthy_per_profile))
    }

    /// The flows whose state can change when a profile's healthy count changes (in
    /// increasing order); only these need evaluating again.
    pub fn flows_touching(&self, profile: usize) -> &[usize] {
        &self.touching[profile]
    }
}

fn pair_up(pair: &AdmittedPair, healthy: &[u32]) -> bool {
    match pair.source {
        None => healthy[pair.dest] > 0,
        Some(source) if source == pair.dest => healthy[source] >= 2,
        Some(source) => healthy[source] > 0 && healthy[pair.dest] > 0,
    }
}

fn check_tiers(model: &SecurityModel, tiers: &[Tier]) -> Result<(), SecurityError> {
    for (index, tier) in tiers.iter().enumerate() {
        if tier.name.is_empty() {
            return invalid(format!("tier {index} has an empty name"));
        }
        if let Some(first) = tiers[..index].iter().position(|t| t.name == tier.name) {
            return invalid(format!(
                "tiers {first} and {index} are both named \"{}\"",
                tier.name
            ));
        }
        if tier.profiles.is_empty() {
            return invalid(format!("tier \"{}\" has no instance profile", tier.name));
        }
        for (number, profile) in tier.profiles.iter().enumerate() {
            let item = format!("tier \"{}\" profile {number}", tier.name);
            check_profile(model, profile).map_err(within(&item))?;
        }
    }
    Ok(())
}

fn check_profile(model: &SecurityModel, profile: &Profile) -> Result<(), SecurityError> {
    if profile.groups.is_empty() {
        return invalid("an instance has at least one group".to_owned());
    }
    match profile.groups.iter().find(|id| id.0 >= model.groups.len()) {
        Some(id) => invalid(format!(
            "group {} is not a group of account \"{}\" (it has {})",
            id.0,
            model.account,
            model.groups.len()
        )),
        None => Ok(()),
    }
}

fn check_flows(tiers: &[Tier], flows: &[Flow]) -> Result<(), SecurityError> {
    for (index, flow) in flows.iter().enumerate() {
        let from = match flow.from {
            Origin::Tier(tier) => Some(tier),
            Origin::Internet => None,
        };
        let missing = from
            .into_iter()
            .chain([flow.to])
            .find(|&t| t >= tiers.len());
        if let Some(tier) = missing {
            return invalid(format!(
                "flow {index}: tier {tier} does not exist (there are {})",
                tiers.len()
            ));
        }
    }
    Ok(())
}

fn profile_ranges(tiers: &[Tier]) -> Vec<Range<usize>> {
    let mut start = 0;
    tiers
        .iter()
        .map(|tier| {
            let range = start..start + tier.profiles.len();
            start = range.end;
            range
        })
        .collect()
}

/// Inverts per-flow pairs into, per profile, the flows it appears in.
fn flows_by_profile(pairs: &[Vec<AdmittedPair>], profiles: usize) -> Vec<Vec<usize>> {
    let mut touching = vec![Vec::new(); profiles];
    for (flow, flow_pairs) in pairs.iter().enumerate() {
        for pair in flow_pairs {
            for profile in pair.source.into_iter().chain([pair.dest]) {
                if touching[profile].last() != Some(&flow) {
                    touching[profile].push(flow);
                }
            }
        }
    }
    touching
}

/// The model, the profiles numbered across tiers, and the internet's range: what
/// evaluating traffic between origins and tiers needs.
struct Layout<'a> {
    model: &'a SecurityModel,
    profiles: &'a [&'a Profile],
    tier_profiles: &'a [Range<usize>],
    internet: Cidr,
}

impl Layout<'_> {
    /// The senders of an origin sending to `via` addresses: (profile number or `None`
    /// for the internet, how the destination sees it). The internet is seen the same
    /// way whichever address it is said to send to.
    fn senders(&self, origin: Origin, via: Via) -> Vec<(Option<usize>, Seen<'_>)> {
        match (origin, via) {
            (Origin::Internet, _) => vec![(None, self.internet_seen())],
            (Origin::Tier(tier), Via::Private) => self.tier_profiles[tier]
                .clone()
                .map(|p| (Some(p), self.profiles[p].seen()))
                .collect(),
            (Origin::Tier(tier), Via::Public) => self.tier_profiles[tier]
                .clone()
                .map(|p| (Some(p), self.profiles[p].seen_public()))
                .collect(),
        }
    }

    fn internet_seen(&self) -> Seen<'_> {
        Seen {
            addresses: self.internet,
            membership: None,
        }
    }

    fn admitted_pairs(&self, flow: &Flow) -> Vec<AdmittedPair> {
        let senders = self.senders(flow.from, flow.via);
        let admits = |rule: &Rule| rule.admits_traffic(flow.protocol, flow.port);
        let mut pairs = Vec::new();
        for (source, seen) in &senders {
            for dest in self.tier_profiles[flow.to].clone() {
                let groups = &self.profiles[dest].groups;
                if let Some(rule) = self.model.first_rule(groups, seen, admits) {
                    pairs.push(AdmittedPair {
                        source: *source,
                        dest,
                        rule,
                    });
                }
            }
        }
        pairs
    }

    /// The first rule by which some sender of `from` reaches some instance of tier `to`
    /// on traffic that passes `wanted`, over private addresses, or else over public ones.
    fn hop_rule(
        &self,
        from: Origin,
        to: usize,
        wanted: impl Fn(&Rule) -> bool + Copy,
    ) -> Option<(GroupId, usize)> {
        let mut senders = self.senders(from, Via::Private);
        if from != Origin::Internet {
            senders.extend(self.senders(from, Via::Public));
        }
        senders.iter().find_map(|(_, seen)| {
            self.tier_profiles[to].clone().find_map(|dest| {
                self.model
                    .first_rule(&self.profiles[dest].groups, seen, wanted)
            })
        })
    }

    /// Every rule, as (group, index), admitting a flow's traffic from any of its
    /// senders to any instance of its tier.
    fn rules_used_by(&self, flow: &Flow) -> Vec<(GroupId, usize)> {
        let mut used = Vec::new();
        for (_, seen) in &self.senders(flow.from, flow.via) {
            for dest in self.tier_profiles[flow.to].clone() {
                let rules = self.model.rules_of(&self.profiles[dest].groups);
                used.extend(
                    rules
                        .filter(|(_, _, rule)| rule.admits_traffic(flow.protocol, flow.port))
                        .filter(|(_, _, rule)| self.model.source_matches(&rule.source, seen))
                        .map(|(group, index, _)| (group, index)),
                );
            }
        }
        used
    }
}

// ---------------------------------------------------------------------------------------
// Audits

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The application cannot work, or a database faces the internet.
    Error,
    /// A rule admits more than needed, or an unplanned path exists.
    Warning,
    /// Worth knowing, nothing to fix.
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

/// One result of an [`audit`]: the group and rule it concerns, if any, and a sentence
/// that names them in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub group: Option<String>,
    pub rule: Option<usize>,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.severity, self.message)
    }
}

/// Audits a model against the tiers that use it and the flows the application needs,
/// errors first. What is reported:
///
/// - **Error**: a required flow no rule admits for any pair of instances (the
///   application can never be up); a rule opening a database port ([`DATABASE_PORTS`])
///   to `0.0.0.0/0` (database protocols were not made to face the internet); a
///   database tier — one a required tcp flow reaches on a database port — that the
///   internet reaches on that port directly; tiers or flows that do not fit the model.
/// - **Warning**: a rule opening ssh to `0.0.0.0/0` (ssh authenticates its users, yet
///   an operator address range is the safer rule); a profile whose instances never
///   take part in a flow that reaches their tier; a rule no required flow uses; a rule
///   whose port range is wider than the ports of the flows that use it; an address-range
///   rule used only by flows between tiers over private addresses, where a group source
///   would admit those senders and nothing else; a database tier the internet reaches
///   through a chain of admitted hops (any traffic on each hop, over private or public
///   addresses; the database port on the last) when one of the shortest such chains
///   has a hop no required flow goes along — that chain is reported.
/// - **Info**: ssh (tcp 22 alone) from an address range narrower than `/0`, taken as
///   operator access; a rule whose source is another account's group (flows between
///   accounts are not modelled); a group no instance has; a database tier the internet
///   reaches through chains whose shortest ones all follow required flows (the
///   application's own path, which a compromised front tier could use; one shortest
///   chain is reported). Longer chains are not examined.
///
/// The internet is any address ([`Cidr::ANY`]), so only `/0` rules admit it; the default
/// group's built-in rules count for reachability but are never reported as needless.
/// The limit of [`MAX_GROUPS`] groups per account is enforced when a model is built, so
/// no model reaching the audit exceeds it.
pub fn audit(model: &SecurityModel, tiers: &[Tier], flows: &[Flow]) -> Vec<Finding> {
    let matrix = match FlowMatrix::new(model, tiers, flows, Cidr::ANY) {
        Ok(matrix) => matrix,
        Err(error) => return vec![Finding::general(Severity::Error, error.0)],
    };
    let profiles: Vec<&Profile> = tiers.iter().flat_map(|t| &t.profiles).collect();
    let auditor = Auditor {
        layout: Layout {
            model,
            profiles: &profiles,
            tier_profiles: &matrix.tier_profiles,
            internet: Cidr::ANY,
        },
        tiers,
        flows,
        matrix: &matrix,
    };
    let mut findings = auditor.flows_never_up();
    findings.extend(auditor.idle_profiles());
    findings.extend(auditor.database_reachability());
    findings.extend(auditor.rule_breadth());
    findings.extend(auditor.exposed_rules());
    findings.sort_by_key(|finding| finding.severity);
    findings
}

impl Finding {
    fn general(severity: Severity, message: String) -> Finding {
        Finding {
            severity,
            group: None,
            rule: None,
            message,
        }
    }

    fn about_rule(
        model: &SecurityModel,
        (group, rule): (GroupId, usize),
        severity: Severity,
        message: String,
    ) -> Finding {
        Finding {
            severity,
            group: Some(model.group(group).name.clone()),
            rule: Some(rule),
            message,
        }
    }
}

struct Auditor<'a> {
    layout: Layout<'a>,
    tiers: &'a [Tier],
    flows: &'a [Flow],
    matrix: &'a FlowMatrix,
}

/// A step of a chain from the internet: into a tier, by a rule.
#[derive(Debug, Clone, Copy)]
struct Hop {
    to: usize,
    rule: (GroupId, usize),
    planned: bool,
}

impl Auditor<'_> {
    fn model(&self) -> &SecurityModel {
        self.layout.model
    }

    fn origin_name(&self, origin: Origin) -> &str {
        match origin {
            Origin::Internet => "internet",
            Origin::Tier(tier) => &self.tiers[tier].name,
        }
    }

    /// `flow 2 (app → db, tcp 3306)`; `flow 2 (app → db over public addresses, tcp
    /// 3306)` for a flow between tiers over public addresses.
    fn describe_flow(&self, index: usize) -> String {
        let flow = &self.flows[index];
        let traffic = match flow.protocol {
            Protocol::Icmp => "icmp".to_owned(),
            protocol => format!("{protocol} {}", flow.port),
        };
        let route = match (flow.from, flow.via) {
            (Origin::Tier(_), Via::Public) => " over public addresses",
            _ => "",
        };
        format!(
            "flow {index} ({} → {}{route}, {traffic})",
            self.origin_name(flow.from),
            self.tiers[flow.to].name
        )
    }

    /// `tier "db" profile 1 {db, app-reachable}`.
    fn describe_profile(&self, profile: usize) -> String {
        let tier = self
            .matrix
            .tier_profiles
            .iter()
            .position(|range| range.contains(&profile))
            .expect("every profile belongs to a tier");
        let groups: Vec<&str> = self.layout.profiles[profile]
            .groups
            .iter()
            .map(|&id| self.model().group(id).name())
            .collect();
        format!(
            "tier \"{}\" profile {} {{{}}}",
            self.tiers[tier].name,
            profile - self.matrix.tier_profiles[tier].start,
            groups.join(", ")
        )
    }

    fn flows_never_up(&self) -> Vec<Finding> {
        (0..self.flows.len())
            .filter(|&flow| self.matrix.pairs[flow].is_empty())
            .map(|flow| {
                Finding::general(
                    Severity::Error,
                    format!(
                        "{} is admitted for no pair of instances: the application can never be up",
                        self.describe_flow(flow)
                    ),
                )
            })
            .collect()
    }

    /// Profiles of a flow's source or destination tier that take no part in it, while
    /// others do: those instances are capacity the flow never uses.
    fn idle_profiles(&self) -> Vec<Finding> {
        let mut findings = Vec::new();
        for (index, flow) in self.flows.iter().enumerate() {
            let pairs = &self.matrix.pairs[index];
            if pairs.is_empty() {
                continue;
            }
            if let Origin::Tier(from) = flow.from {
                for profile in self.matrix.profiles_of(from) {
                    if !pairs.iter().any(|pair| pair.source == Some(profile)) {
                        findings.push(self.idle_profile(
                            index,
                            profile,
                            "can send it to no instance",
                        ));
                    }
                }
            }
            for profile in self.matrix.profiles_of(flow.to) {
                if !pairs.iter().any(|pair| pair.dest == profile) {
                    findings.push(self.idle_profile(index, profile, "admits it from no sender"));
                }
            }
        }
        findings
    }

    fn idle_profile(&self, flow: usize, profile: usize, what: &str) -> Finding {
        Finding::general(
            Severity::Warning,
            format!(
                "{}: {} {what}, so its instances never count for it",
                self.describe_flow(flow),
                self.describe_profile(profile)
            ),
        )
    }

    /// Rules opening ssh or a database port to every address, one finding per rule.
    fn exposed_rules(&self) -> Vec<Finding> {
        let model = self.model();
        let mut findings = Vec::new();
        for (index, group) in model.groups.iter().enumerate() {
            for (number, rule) in group.rules.iter().enumerate() {
                let at = (GroupId(index), number);
                if let Some((severity, what)) = exposure(rule) {
                    let message = format!(
                        "{} opens {what} to any address",
                        model.describe_rule(at.0, at.1)
                    );
                    findings.push(Finding::about_rule(model, at, severity, message));
                }
            }
        }
        findings
    }

    fn database_reachability(&self) -> Vec<Finding> {
        (0..self.tiers.len())
            .filter_map(|tier| {
                let ports = self.database_ports_of(tier);
                (!ports.is_empty()).then(|| self.reachability_of(tier, &ports))
            })
            .flatten()
            .collect()
    }

    /// The database ports required tcp flows reach a tier on, sorted.
    fn database_ports_of(&self, tier: usize) -> Vec<u16> {
        let mut ports: Vec<u16> = self
            .flows
            .iter()
            .filter(|flow| flow.to == tier && flow.protocol == Protocol::Tcp)
            .map(|flow| flow.port)
            .filter(|&port| database_name(port).is_some())
            .collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }

    fn reachability_of(&self, db: usize, ports: &[u16]) -> Option<Finding> {
        let on_database_port = |rule: &Rule| rule.admits_any_of(Protocol::Tcp, ports);
        let name = &self.tiers[db].name;
        if let Some(rule) = self.layout.hop_rule(Origin::Internet, db, on_database_port) {
            let message = format!(
                "tier \"{name}\" takes its database port straight from the internet: {}",
                self.model().describe_rule(rule.0, rule.1)
            );
            return Some(Finding::about_rule(
                self.model(),
                rule,
                Severity::Error,
                message,
            ));
        }
        let chains = self.shortest_chains(db, on_database_port);
        let (severity, chain, how) = match chains {
            Chains {
                unplanned: Some(chain),
                ..
            } => (
                Severity::Warning,
                chain,
                "through a chain with a hop no required flow goes along",
            ),
            Chains {
                shortest: Some(chain),
                ..
            } => (Severity::Info, chain, "only along required flows"),
            _ => return None,
        };
        let last = chain.last().expect("a chain has a hop").rule;
        let message = format!(
            "tier \"{name}\" can be reached on its database port from the internet {how}: {}",
            self.describe_chain(&chain)
        );
        Some(Finding::about_rule(self.model(), last, severity, message))
    }

    /// `internet → web (tcp 80 from 0.0.0.0/0) → db (tcp 3306 from group web)`.
    fn describe_chain(&self, chain: &[Hop]) -> String {
        let hops = chain.iter().map(|hop| {
            let (group, rule) = hop.rule;
            let rule = &self.model().group(group).rules[rule];
            format!("{} ({rule})", self.tiers[hop.to].name)
        });
        std::iter::once("internet".to_owned())
            .chain(hops)
            .collect::<Vec<_>>()
            .join(" → ")
    }

    /// Whether a required flow goes from `from` to tier `to`.
    fn planned(&self, from: Origin, to: usize) -> bool {
        self.flows
            .iter()
            .any(|flow| flow.from == from && flow.to == to)
    }

    fn hop(&self, from: Origin, to: usize, wanted: impl Fn(&Rule) -> bool + Copy) -> Option<Hop> {
        let rule = self.layout.hop_rule(from, to, wanted)?;
        Some(Hop {
            to,
            rule,
            planned: self.planned(from, to),
        })
    }

    /// The shortest chains from the internet into `db`, through other tiers, whose
    /// last hop passes `last_hop`: one of them, and one with a hop no required flow goes
    /// along if some shortest chain has one. Breadth-first over states (tier, whether an
    /// unplanned hop was taken); a chain of the shortest length never visits a tier
    /// twice.
    fn shortest_chains(&self, db: usize, last_hop: impl Fn(&Rule) -> bool + Copy) -> Chains {
        let mut search = ChainSearch::new(self.tiers.len());
        let mut chains = Chains::default();
        while let Some(state) = search.queue.pop_front() {
            let length = search.depth[state] + 1;
            if chains
                .shortest
                .as_ref()
                .is_some_and(|chain| length > chain.len())
            {
                break;
            }
            let (from, unplanned) = ChainSearch::origin_of(state);
            if let (Origin::Tier(_), Some(hop)) = (from, self.hop(from, db, last_hop)) {
                let chain = search.chain_to(state, hop);
                if (unplanned || !hop.planned) && chains.unplanned.is_none() {
                    chains.unplanned = Some(chain.clone());
                }
                chains.shortest.get_or_insert(chain);
            }
            for to in (0..self.tiers.len()).filter(|&t| t != db && from != Origin::Tier(t)) {
                if let Some(hop) = self.hop(from, to, |_| true) {
                    search.visit(state, unplanned || !hop.planned, hop);
                }
            }
        }
        chains
    }

    fn rule_breadth(&self) -> Vec<Finding> {
        let usage = self.rule_usage();
        let members = self.groups_with_members();
        let model = self.model();
        let mut findings = Vec::new();
        for (index, group) in model.groups.iter().enumerate() {
            let id = GroupId(index);
            let own_rules: Vec<usize> = (0..group.rules.len())
                .filter(|&rule| !model.is_builtin(id, rule))
                .collect();
            if own_rules.is_empty() {
                continue;
            }
            if !members[index] {
                findings.push(Finding {
                    group: Some(group.name.clone()),
                    ..Finding::general(
                        Severity::Info,
                        format!(
                            "group \"{}\" has no instances in any tier; its rules were not checked against the flows",
                            group.name
                        ),
                    )
                });
                continue;
            }
            for rule in own_rules {
                findings.extend(self.rule_findings((id, rule), &usage[index][rule]));
            }
        }
        findings
    }

    /// Findings about one rule, given the flows that use it. A rule already reported
    /// as open to every address is not judged again.
    fn rule_findings(&self, at: (GroupId, usize), used_by: &[usize]) -> Vec<Finding> {
        let model = self.model();
        let rule = &model.group(at.0).rules[at.1];
        let judgements: Vec<(Severity, String)> = if exposure(rule).is_some() {
            Vec::new()
        } else if is_operator_access(rule) {
            vec![(
                Severity::Info,
                "is operator access (ssh from a named address range)".to_owned(),
            )]
        } else if matches!(rule.source, Source::Group(GroupRef::Other { .. })) {
            vec![(
                Severity::Info,
                "admits another account's group; flows between accounts are not modelled"
                    .to_owned(),
            )]
        } else if used_by.is_empty() {
            vec![(Severity::Warning, "is used by no required flow".to_owned())]
        } else {
            [
                self.wider_than_needed(rule, used_by),
                self.address_instead_of_group(rule, used_by),
            ]
            .into_iter()
            .flatten()
            .map(|message| (Severity::Warning, message))
            .collect()
        };
        let described = model.describe_rule(at.0, at.1);
        judgements
            .into_iter()
            .map(|(severity, message)| {
                Finding::about_rule(model, at, severity, format!("{described} {message}"))
            })
            .collect()
    }

    fn wider_than_needed(&self, rule: &Rule, used_by: &[usize]) -> Option<String> {
        if rule.protocol == Protocol::Icmp {
            return None;
        }
        let mut ports: Vec<u16> = used_by.iter().map(|&f| self.flows[f].port).collect();
        ports.sort_unstable();
        ports.dedup();
        if ports.len() as u32 >= rule.ports.count() {
            return None;
        }
        let needed: Vec<String> = ports.iter().map(u16::to_string).collect();
        Some(format!(
            "admits {} ports, but the flows that use it need only {}",
            rule.ports.count(),
            needed.join(", ")
        ))
    }

    fn address_instead_of_group(&self, rule: &Rule, used_by: &[usize]) -> Option<String> {
        if !matches!(rule.source, Source::Cidr(_)) {
            return None;
        }
        let mut senders = Vec::new();
        for &flow in used_by {
            // Over public addresses only an address range can admit a tier's traffic.
            match (self.flows[flow].from, self.flows[flow].via) {
                (Origin::Internet, _) | (_, Via::Public) => return None,
                (Origin::Tier(tier), Via::Private) => senders.push(tier),
            }
        }
        senders.sort_unstable();
        senders.dedup();
        let names: Vec<String> = senders
            .iter()
            .map(|&t| format!("\"{}\"", self.tiers[t].name))
            .collect();
        Some(format!(
            "admits by address traffic that only tier {} sends; a source naming that tier's group would admit it and nothing else",
            names.join(", ")
        ))
    }

    /// For each group and rule, the flows that rule admits for some pair of instances.
    fn rule_usage(&self) -> Vec<Vec<Vec<usize>>> {
        let mut usage: Vec<Vec<Vec<usize>>> = self
            .model()
            .groups
            .iter()
            .map(|group| vec![Vec::new(); group.rules.len()])
            .collect();
        for (index, flow) in self.flows.iter().enumerate() {
            for (group, rule) in self.layout.rules_used_by(flow) {
                let flows = &mut usage[group.0][rule];
                if flows.last() != Some(&index) {
                    flows.push(index);
                }
            }
        }
        usage
    }

    fn groups_with_members(&self) -> Vec<bool> {
        let mut members = vec![false; self.model().groups.len()];
        for profile in self.layout.profiles {
            for id in &profile.groups {
                members[id.0] = true;
            }
        }
        members
    }
}

/// What a rule opens to every address, if it is ssh or a database: (severity, words).
fn exposure(rule: &Rule) -> Option<(Severity, String)> {
    let open_to_all = matches!(rule.source, Source::Cidr(range) if range.is_any());
    if !open_to_all || rule.protocol != Protocol::Tcp {
        return None;
    }
    let databases: Vec<String> = DATABASE_PORTS
        .iter()
        .filter(|(port, _)| rule.ports.contains(*port))
        .map(|(port, name)| format!("{name} ({port})"))
        .collect();
    if !databases.is_empty() {
        return Some((Severity::Error, databases.join(", ")));
    }
    rule.ports
        .contains(SSH_PORT)
        .then(|| (Severity::Warning, format!("ssh ({SSH_PORT})")))
}

fn database_name(port: u16) -> Option<&'static str> {
    DATABASE_PORTS
        .iter()
        .find(|(p, _)| *p == port)
        .map(|(_, name)| *name)
}

/// ssh alone, from an address range narrower than every address.
fn is_operator_access(rule: &Rule) -> bool {
    let narrow_range = matches!(rule.source, Source::Cidr(range) if !range.is_any());
    rule.protocol == Protocol::Tcp && rule.ports == PortRange::single(SSH_PORT) && narrow_range
}

/// Shortest chains into a database tier: one of them, and one with a hop no required
/// flow goes along, if a shortest chain has one.
#[derive(Debug, Default)]
struct Chains {
    shortest: Option<Vec<Hop>>,
    unplanned: Option<Vec<Hop>>,
}

/// Breadth-first search state. State `2 * node + unplanned`, where node 0 is the
/// internet and node `t + 1` is tier `t`.
struct ChainSearch {
    queue: VecDeque<usize>,
    visited: Vec<bool>,
    depth: Vec<usize>,
    previous: Vec<Option<(usize, Hop)>>,
}

impl ChainSearch {
    fn new(tiers: usize) -> ChainSearch {
        let states = 2 * (tiers + 1);
        let mut visited = vec![false; states];
        visited[0] = true;
        ChainSearch {
            queue: VecDeque::from([0]),
            visited,
            depth: vec![0; states],
            previous: vec![None; states],
        }
    }

    fn origin_of(state: usize) -> (Origin, bool) {
        let origin = match state / 2 {
            0 => Origin::Internet,
            node => Origin::Tier(node - 1),
        };
        (origin, state % 2 == 1)
    }

    fn visit(&mut self, from: usize, unplanned: bool, hop: Hop) {
        let state = 2 * (hop.to + 1) + usize::from(unplanned);
        if !self.visited[state] {
            self.visited[state] = true;
            self.depth[state] = self.depth[from] + 1;
            self.previous[state] = Some((from, hop));
            self.queue.push_back(state);
        }
    }

    /// The hops from the internet to `state`, then `last`.
    fn chain_to(&self, mut state: usize, last: Hop) -> Vec<Hop> {
        let mut chain = vec![last];
        while let Some((before, hop)) = self.previous[state] {
            chain.push(hop);
            state = before;
        }
        chain.reverse();
        chain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPERATORS: &str = "203.0.113.0/24";

    fn addr(text: &str) -> u32 {
        parse_address(text).unwrap()
    }

    fn cidr(text: &str) -> Cidr {
        text.parse().unwrap()
    }

    fn id(model: &SecurityModel, name: &str) -> GroupId {
        model.group_id(name).unwrap()
    }

    fn ids(model: &SecurityModel, names: &[&str]) -> Vec<GroupId> {
        names.iter().map(|name| id(model, name)).collect()
    }

    fn profile(model: &SecurityModel, names: &[&str]) -> Profile {
        Profile::new(&ids(model, names))
    }

    /// An instance of our account sending to a private address.
    fn member(groups: &[GroupId]) -> Sender<'_> {
        Sender::Instance(InstanceSender {
            membership: Membership::Own(groups),
            private_address: addr("10.1.2.3"),
            public_address: Some(addr("75.101.1.1")),
            via: Via::Private,
        })
    }

    fn errors(findings: &[Finding]) -> Vec<&Finding> {
        findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .collect()
    }

    fn with_severity(findings: &[Finding], severity: Severity) -> Vec<String> {
        findings
            .iter()
            .filter(|f| f.severity == severity)
            .map(|f| f.message.clone())
            .collect()
    }

    /// The typical n-tier layout: web open to the world on 80 and 443, app open to web on
    /// 8080, db open to app on 3306, ssh from the operators' range, every instance in
    /// ssh-admin.
    fn seed_builder() -> SecurityModelBuilder {
        SecurityModel::builder("acme")
            .group("web", &["tcp 80 from 0.0.0.0/0", "tcp 443 from 0.0.0.0/0"])
            .group("app", &["tcp 8080 from group web"])
            .group("db", &["tcp 3306 from group app"])
            .group("ssh-admin", &[&format!("tcp 22 from {OPERATORS}")])
    }

    fn seed_tiers(model: &SecurityModel) -> Vec<Tier> {
        ["web", "app", "db"]
            .iter()
            .map(|&name| Tier::new(name, vec![profile(model, &[name, "ssh-admin"])]))
            .collect()
    }

    /// internet → web on 80 and 443, web → app on 8080, app → db on 3306.
    fn seed_flows() -> Vec<Flow> {
        vec![
            Flow::from_internet(0, Protocol::Tcp, 80),
            Flow::from_internet(0, Protocol::Tcp, 443),
            Flow::between(0, 1, Protocol::Tcp, 8080),
            Flow::between(1, 2, Protocol::Tcp, 3306),
        ]
    }

    #[test]
    fn seed_layout_admits_every_required_flow() {
        let model = seed_builder().build().unwrap();
        let tiers = seed_tiers(&model);
        let flows = seed_flows();
        let matrix = FlowMatrix::new(&model, &tiers, &flows, Cidr::ANY).unwrap();
        // One profile per tier, one healthy instance each: every flow is up.
        for flow in 0..flows.len() {
            assert!(matrix.flow_up(flow, &[1, 1, 1]), "flow {flow}");
        }
        // The web tier's 443 is admitted by web's rule 1, app's 8080 by app's rule 0.
        assert_eq!(matrix.admitted_pairs(1)[0].rule, (id(&model, "web"), 1));
        assert_eq!(matrix.admitted_pairs(2)[0].rule, (id(&model, "app"), 0));
    }

    #[test]
    fn seed_layout_audit_finds_no_error_and_no_warning() {
        let model = seed_builder().build().unwrap();
        let findings = audit(&model, &seed_tiers(&model), &seed_flows());
        assert!(errors(&findings).is_empty(), "{findings:#?}");
        assert!(
            with_severity(&findings, Severity::Warning).is_empty(),
            "{findings:#?}"
        );
        // What remains: ssh from the operators' range, and the database reachable along
        // the application's own path (the shortest one: web, then app, then db).
        assert_eq!(
            with_severity(&findings, Severity::Info),
            [
                "tier \"db\" can be reached on its database port from the internet only along \
                 required flows: internet → web (tcp 80 from 0.0.0.0/0) → app (tcp 8080 from \
                 group web) → db (tcp 3306 from group app)",
                "group \"ssh-admin\" rule 0 (tcp 22 from 203.0.113.0/24) is operator access (ssh \
                 from a named address range)",
            ]
        );
    }

    #[test]
    fn removing_the_app_rule_from_db_breaks_the_app_to_db_flow() {
        let model = SecurityModel::builder("acme")
            .group("web", &["tcp 80 from 0.0.0.0/0", "tcp 443 from 0.0.0.0/0"])
            .group("app", &["tcp 8080 from group web"])
            .group("db", &[])
            .group("ssh-admin", &[&format!("tcp 22 from {OPERATORS}")])
            .build()
            .unwrap();
        let tiers = seed_tiers(&model);
        let flows = seed_flows();
        let matrix = FlowMatrix::new(&model, &tiers, &flows, Cidr::ANY).unwrap();
        // Nothing admits 3306 into db: down whatever is healthy; the others still work.
        assert!(matrix.admitted_pairs(3).is_empty());
        assert!(!matrix.flow_up(3, &[5, 5, 5]));
        assert!(matrix.flow_up(2, &[1, 1, 0]));
        let findings = audit(&model, &tiers, &flows);
        let errors = errors(&findings);
        assert_eq!(errors.len(), 1, "{findings:#?}");
        assert_eq!(
            errors[0].message,
            "flow 3 (app → db, tcp 3306) is admitted for no pair of instances: the application \
             can never be up"
        );
    }

    #[test]
    fn a_second_group_adds_what_it_admits() {
        let model = SecurityModel::builder("acme")
            .group("web", &[])
            .group("app", &[])
            .group("db", &["tcp 3306 from group app"])
            .group("app-reachable", &["tcp 8080 from group web"])
            .build()
            .unwrap();
        let web = ids(&model, &["web"]);
        let app = ids(&model, &["app"]);
        let db_only = ids(&model, &["db"]);
        let both = ids(&model, &["db", "app-reachable"]);
        // db alone admits 3306 from app, and nothing from web.
        assert!(model.admits(&db_only, Protocol::Tcp, 3306, &member(&app)));
        assert!(!model.admits(&db_only, Protocol::Tcp, 8080, &member(&web)));
        // With app-reachable too, it admits either group's traffic, and no more.
        assert!(model.admits(&both, Protocol::Tcp, 3306, &member(&app)));
        assert!(model.admits(&both, Protocol::Tcp, 8080, &member(&web)));
        assert!(!model.admits(&both, Protocol::Tcp, 3306, &member(&web)));
        assert!(!model.admits(&both, Protocol::Tcp, 8080, &member(&app)));
        assert_eq!(
            model.admitting_rule(&both, Protocol::Tcp, 8080, &member(&web)),
            Some((id(&model, "app-reachable"), 0))
        );
    }

    #[test]
    fn membership_grants_nothing_but_the_default_group_admits_its_members() {
        let model = SecurityModel::builder("acme")
            .group("x", &[])
            .build()
            .unwrap();
        let x = ids(&model, &["x"]);
        // No rule names "x": two members of x reach each other on nothing.
        for (protocol, port) in [
            (Protocol::Tcp, 22),
            (Protocol::Udp, 53),
            (Protocol::Icmp, 0),
        ] {
            assert!(!model.admits(&x, protocol, port, &member(&x)));
        }
        // The default group's built-in rules admit everything from its members only.
        let default = [GroupId::DEFAULT];
        for (protocol, port) in [
            (Protocol::Tcp, 5432),
            (Protocol::Udp, 53),
            (Protocol::Icmp, 0),
        ] {
            assert!(model.admits(&default, protocol, port, &member(&default)));
            assert!(!model.admits(&default, protocol, port, &member(&x)));
        }
        assert!(model.is_builtin(GroupId::DEFAULT, 2));
        assert_eq!(
            model.group(GroupId::DEFAULT).rules()[0].to_string(),
            "tcp 0-65535 from group default"
        );
    }

    #[test]
    fn rules_given_for_the_default_group_follow_its_built_in_ones() {
        let model = SecurityModel::builder("acme")
            .group("default", &["tcp 80 from 0.0.0.0/0"])
            .build()
            .unwrap();
        assert_eq!(model.groups().len(), 1);
        let rules = model.group(GroupId::DEFAULT).rules();
        assert_eq!(rules.len(), 4);
        assert_eq!(rules[3].to_string(), "tcp 80 from 0.0.0.0/0");
        assert!(!model.is_builtin(GroupId::DEFAULT, 3));
    }

    #[test]
    fn a_group_of_another_account_admits_only_that_accounts_members() {
        let model = SecurityModel::builder("acme")
            .group("web", &[])
            .group("api", &["tcp 8080 from group web of account partner"])
            .build()
            .unwrap();
        let api = ids(&model, &["api"]);
        let from = |account: &'static str, groups: &'static [&'static str]| {
            Sender::Instance(InstanceSender {
                membership: Membership::Account { account, groups },
                private_address: addr("10.9.9.9"),
                public_address: None,
                via: Via::Private,
            })
        };
        assert!(model.admits(&api, Protocol::Tcp, 8080, &from("partner", &["web"])));
        // Same group name, wrong account (ours, by id or by name; or a third one).
        let our_web = ids(&model, &["web"]);
        assert!(!model.admits(&api, Protocol::Tcp, 8080, &member(&our_web)));
        assert!(!model.admits(&api, Protocol::Tcp, 8080, &from("acme", &["web"])));
        assert!(!model.admits(&api, Protocol::Tcp, 8080, &from("third", &["web"])));
        // Right account, wrong group.
        assert!(!model.admits(&api, Protocol::Tcp, 8080, &from("partner", &["app"])));
    }

    #[test]
    fn a_group_of_the_own_account_named_with_its_account_resolves_to_it() {
        let model = SecurityModel::builder("acme")
            .group("web", &[])
            .group("app", &["tcp 8080 from group web of account acme"])
            .build()
            .unwrap();
        let rule = &model.group(id(&model, "app")).rules()[0];
        assert_eq!(rule.to_string(), "tcp 8080 from group web");
        let web = ids(&model, &["web"]);
        assert!(model.admits(&ids(&model, &["app"]), Protocol::Tcp, 8080, &member(&web)));
    }

    #[test]
    fn group_sources_apply_over_private_addresses_only() {
        let model = SecurityModel::builder("acme")
            .group("web", &[])
            .group("app", &["tcp 8080 from group web"])
            .group("edge", &["tcp 8080 from 75.101.1.1/32"])
            .build()
            .unwrap();
        let web = ids(&model, &["web"]);
        let over = |via, public_address| {
            Sender::Instance(InstanceSender {
                membership: Membership::Own(&web),
                private_address: addr("10.1.2.3"),
                public_address,
                via,
            })
        };
        let public = Some(addr("75.101.1.1"));
        let app = ids(&model, &["app"]);
        let edge = ids(&model, &["edge"]);
        // app names the group: private route yes, public route no.
        assert!(model.admits(&app, Protocol::Tcp, 8080, &over(Via::Private, public)));
        assert!(!model.admits(&app, Protocol::Tcp, 8080, &over(Via::Public, public)));
        // edge names the public address: the other way round.
        assert!(!model.admits(&edge, Protocol::Tcp, 8080, &over(Via::Private, public)));
        assert!(model.admits(&edge, Protocol::Tcp, 8080, &over(Via::Public, public)));
        // Without a public address nothing goes the public way.
        assert!(!model.admits(&edge, Protocol::Tcp, 8080, &over(Via::Public, None)));
    }

    #[test]
    fn the_internet_is_admitted_only_by_rules_covering_every_client() {
        let model = SecurityModel::builder("acme")
            .group("open", &["tcp 80 from 0.0.0.0/0"])
            .group("office", &["tcp 80 from 203.0.113.0/24"])
            .build()
            .unwrap();
        let open = ids(&model, &["open"]);
        let office = ids(&model, &["office"]);
        assert!(model.admits(&open, Protocol::Tcp, 80, &Sender::INTERNET));
        assert!(!model.admits(&office, Protocol::Tcp, 80, &Sender::INTERNET));
        // Clients known to be in half of the office range, or one office host: admitted.
        let half = Sender::Addresses(cidr("203.0.113.128/25"));
        assert!(model.admits(&office, Protocol::Tcp, 80, &half));
        assert!(model.admits(
            &office,
            Protocol::Tcp,
            80,
            &Sender::address(addr("203.0.113.7"))
        ));
        assert!(!model.admits(
            &office,
            Protocol::Tcp,
            80,
            &Sender::address(addr("198.51.100.1"))
        ));
        // The flow matrix takes the internet's range from its caller.
        let tiers = vec![Tier::new("site", vec![profile(&model, &["office"])])];
        let flows = vec![Flow::from_internet(0, Protocol::Tcp, 80)];
        let anywhere = FlowMatrix::new(&model, &tiers, &flows, Cidr::ANY).unwrap();
        assert!(!anywhere.flow_up(0, &[1]));
        let office_clients = FlowMatrix::new(&model, &tiers, &flows, cidr(OPERATORS)).unwrap();
        assert!(office_clients.flow_up(0, &[1]));
    }

    #[test]
    fn address_ranges_parse_and_contain() {
        let any = cidr("0.0.0.0/0");
        assert_eq!(any, Cidr::ANY);
        assert!(any.is_any());
        assert!(any.contains(0) && any.contains(u32::MAX));
        assert!(any.contains_range(&cidr("10.0.0.0/8")));
        let host = cidr("192.0.2.1/32");
        assert_eq!(host, Cidr::host(addr("192.0.2.1")));
        assert!(host.contains(addr("192.0.2.1")));
        assert!(!host.contains(addr("192.0.2.2")));
        assert!(!host.is_any());
        let ten = cidr("10.0.0.0/8");
        assert!(ten.contains(addr("10.255.255.255")));
        assert!(!ten.contains(addr("11.0.0.0")));
        assert!(ten.contains_range(&cidr("10.1.0.0/16")));
        assert!(ten.contains_range(&ten));
        assert!(!ten.contains_range(&cidr("0.0.0.0/0")));
        assert!(!cidr("10.1.0.0/16").contains_range(&ten));
        assert_eq!(cidr("255.255.255.255/32").to_string(), "255.255.255.255/32");
        assert_eq!(EC2_PRIVATE_NETWORK, ten);
    }

    #[test]
    fn bad_address_ranges_are_rejected_with_reasons() {
        let reason = |text: &str| text.parse::<Cidr>().unwrap_err().0;
        assert_eq!(
            reason("10.0.0.1/8"),
            "address range \"10.0.0.1/8\": 10.0.0.1 has bits set beyond its /8 prefix (the range \
             it falls in is 10.0.0.0/8)"
        );
        assert_eq!(
            reason("10.0.0.0/33"),
            "address range \"10.0.0.0/33\": prefix \"33\" is not a number from 0 to 32"
        );
        assert_eq!(
            reason("10.0.256.0/24"),
            "address range \"10.0.256.0/24\": octet 3 (\"256\") is not a number from 0 to 255 \
             without leading zeros"
        );
        assert_eq!(
            reason("10.0.0/8"),
            "address range \"10.0.0/8\": \"10.0.0\" is not an IPv4 address: it has 3 \
             dot-separated parts, not 4"
        );
        assert_eq!(
            reason("10.0.0.0"),
            "address range \"10.0.0.0\" has no /prefix (write 10.0.0.0/32 for one address)"
        );
        assert!(reason("010.0.0.0/8").contains("octet 1 (\"010\")"));
        assert!(reason("10.0.0.+1/32").contains("octet 4"));
        assert!(reason("10.0.0.0/").contains("prefix \"\""));
        assert!(reason("10.0.0.0/-1").contains("prefix \"-1\""));
        assert!(
            Cidr::new(addr("10.0.0.0"), 33)
                .unwrap_err()
                .0
                .contains("longer than 32")
        );
    }

    #[test]
    fn rules_print_and_parse_back() {
        for text in [
            "tcp 8080 from group app",
            "tcp 22 from 203.0.113.0/24",
            "udp 6000-6010 from 10.0.0.0/8",
            "icmp from group web",
            "tcp 8080 from group web of account partner",
        ] {
            let spec: RuleSpec = text.parse().unwrap();
            assert_eq!(spec.to_string(), text);
        }
        let reason = |text: &str| text.parse::<RuleSpec>().unwrap_err().0;
        assert!(reason("tcp from group app").contains("tcp needs a port"));
        assert!(reason("icmp 8 from group app").contains("icmp takes no ports"));
        assert!(reason("sctp 80 from 0.0.0.0/0").contains("not a protocol"));
        assert!(reason("tcp 443-80 from 0.0.0.0/0").contains("reversed"));
        assert!(reason("tcp 80 to 0.0.0.0/0").contains("expected \"from\""));
        assert!(reason("tcp 80 from somewhere else").contains("neither an address range"));
        assert!(reason("tcp 70000 from 0.0.0.0/0").contains("port \"70000\""));
    }

    #[test]
    fn the_builder_names_the_offending_group_and_rule() {
        let reason = |builder: SecurityModelBuilder| builder.build().unwrap_err().0;
        assert_eq!(
            reason(SecurityModel::builder("acme").group("db", &["tcp 3306 from group ap"])),
            "group \"db\" rule 0 (tcp 3306 from group ap): account \"acme\" has no group \"ap\""
        );
        assert_eq!(
            reason(
                SecurityModel::builder("acme")
                    .group("db", &["tcp 3306 from group db", "tcp 3306 frm x"])
            ),
            "group \"db\" rule 1: expected \"from\" after \"tcp 3306\""
        );
        assert_eq!(
            reason(
                SecurityModel::builder("acme")
                    .group("db", &[])
                    .group("web", &[])
                    .group("db", &[])
            ),
            "group \"db\" is declared twice (declarations 0 and 2)"
        );
        assert!(reason(SecurityModel::builder("acme").group("", &[])).contains("group name \"\""));
        assert!(reason(SecurityModel::builder("").group("db", &[])).contains("account name"));
        // Rules may also be given as values.
        let web = SourceSpec::Group("web".to_owned());
        let model = SecurityModel::builder("acme")
            .group("web", &[])
            .group_with(
                "app",
                vec![
                    RuleSpec::new(
                        Protocol::Udp,
                        PortRange::new(6000, 6010).unwrap(),
                        web.clone(),
                    )
                    .unwrap(),
                    RuleSpec::icmp(web.clone()),
                ],
            )
            .build()
            .unwrap();
        let app = model.group(id(&model, "app")).rules();
        assert_eq!(app[0].to_string(), "udp 6000-6010 from group web");
        assert_eq!(app[1].to_string(), "icmp from group web");
        assert!(RuleSpec::new(Protocol::Icmp, PortRange::ALL, web).is_err());
        // Groups may name groups declared later.
        let model = SecurityModel::builder("acme")
            .group("db", &["tcp 3306 from group app"])
            .group("app", &[])
            .build()
            .unwrap();
        assert_eq!(
            model.describe_rule(id(&model, "db"), 0),
            "group \"db\" rule 0 (tcp 3306 from group app)"
        );
    }

    #[test]
    fn at_most_100_groups_per_account_the_default_included() {
        let many = |count: usize| {
            (0..count).fold(SecurityModel::builder("acme"), |builder, i| {
                builder.group(&format!("g{i}"), &[])
            })
        };
        // 99 groups and the default: 100, accepted.
        assert_eq!(many(99).build().unwrap().groups().len(), 100);
        // 100 groups and the default: 101, rejected.
        assert_eq!(
            many(100).build().unwrap_err().0,
            "account \"acme\" has 101 groups, the default group included; at most 100 are \
             allowed per account"
        );
        // Declaring "default" does not add a group.
        assert!(many(99).group("default", &[]).build().is_ok());
    }

    #[test]
    fn open_ssh_and_database_rules_are_reported_with_group_and_rule() {
        let model = SecurityModel::builder("acme")
            .group("web", &["tcp 80 from 0.0.0.0/0", "tcp 22 from 0.0.0.0/0"])
            .group(
                "db",
                &["tcp 3306 from group web", "tcp 3306 from 0.0.0.0/0"],
            )
            .build()
            .unwrap();
        let tiers = vec![
            Tier::new("web", vec![profile(&model, &["web"])]),
            Tier::new("db", vec![profile(&model, &["db"])]),
        ];
        let flows = vec![
            Flow::from_internet(0, Protocol::Tcp, 80),
            Flow::between(0, 1, Protocol::Tcp, 3306),
        ];
        let findings = audit(&model, &tiers, &flows);
        // db rule 1 opens MySQL to the world, and so db takes 3306 from the internet.
        let errors = errors(&findings);
        assert_eq!(errors.len(), 2, "{findings:#?}");
        assert!(
            errors
                .iter()
                .all(|f| f.group.as_deref() == Some("db") && f.rule == Some(1))
        );
        let messages: Vec<&str> = errors.iter().map(|f| f.message.as_str()).collect();
        assert!(messages.contains(
            &"tier \"db\" takes its database port straight from the internet: group \"db\" rule 1 \
              (tcp 3306 from 0.0.0.0/0)"
        ));
        assert!(messages.contains(
            &"group \"db\" rule 1 (tcp 3306 from 0.0.0.0/0) opens MySQL (3306) to any address"
        ));
        // Open ssh is a warning (and not also reported as a rule no flow uses).
        let ssh: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.group.as_deref() == Some("web") && f.rule == Some(1))
            .collect();
        assert_eq!(ssh.len(), 1, "{findings:#?}");
        assert_eq!(ssh[0].severity, Severity::Warning);
        assert_eq!(
            ssh[0].message,
            "group \"web\" rule 1 (tcp 22 from 0.0.0.0/0) opens ssh (22) to any address"
        );
    }

    #[test]
    fn a_database_reachable_through_an_unplanned_hop_is_reported_with_the_chain() {
        // db also admits web directly, although only app needs it.
        let model = SecurityModel::builder("acme")
            .group("web", &["tcp 443 from 0.0.0.0/0"])
            .group("app", &["tcp 8080 from group web"])
            .group(
                "db",
                &["tcp 3306 from group app", "tcp 3306 from group web"],
            )
            .build()
            .unwrap();
        let tiers: Vec<Tier> = ["web", "app", "db"]
            .iter()
            .map(|&name| Tier::new(name, vec![profile(&model, &[name])]))
            .collect();
        let flows = vec![
            Flow::from_internet(0, Protocol::Tcp, 443),
            Flow::between(0, 1, Protocol::Tcp, 8080),
            Flow::between(1, 2, Protocol::Tcp, 3306),
        ];
        let findings = audit(&model, &tiers, &flows);
        assert!(errors(&findings).is_empty(), "{findings:#?}");
        // The shortest chain with an unplanned hop: internet → web → db (2 hops); the
        // rule db rule 1 is also used by no required flow.
        assert_eq!(
            with_severity(&findings, Severity::Warning),
            [
                "tier \"db\" can be reached on its database port from the internet through a \
                 chain with a hop no required flow goes along: internet → web (tcp 443 from \
                 0.0.0.0/0) → db (tcp 3306 from group web)",
                "group \"db\" rule 1 (tcp 3306 from group web) is used by no required flow",
            ]
        );
        let chain = findings
            .iter()
            .find(|f| f.message.contains("chain"))
            .unwrap();
        assert_eq!((chain.group.as_deref(), chain.rule), (Some("db"), Some(1)));
    }

    #[test]
    fn an_unplanned_chain_as_short_as_the_planned_one_is_a_warning() {
        // web → app → db is the design; report also reaches db, though no flow says so.
        let model = SecurityModel::builder("acme")
            .group("web", &["tcp 443 from 0.0.0.0/0"])
            .group("app", &["tcp 8080 from group web"])
            .group("report", &["tcp 9000 from group web"])
            .group(
                "db",
                &["tcp 3306 from group app", "tcp 3306 from group report"],
            )
            .build()
            .unwrap();
        let tiers: Vec<Tier> = ["web", "app", "report", "db"]
            .iter()
            .map(|&name| Tier::new(name, vec![profile(&model, &[name])]))
            .collect();
        let flows = vec![
            Flow::from_internet(0, Protocol::Tcp, 443),
            Flow::between(0, 1, Protocol::Tcp, 8080),
            Flow::between(0, 2, Protocol::Tcp, 9000),
            Flow::between(1, 3, Protocol::Tcp, 3306),
        ];
        let findings = audit(&model, &tiers, &flows);
        // Both chains take three hops; the one through report has an unplanned last hop.
        let chain = findings
            .iter()
            .find(|f| f.message.starts_with("tier \"db\""))
            .unwrap();
        assert_eq!(chain.severity, Severity::Warning);
        assert!(
            chain.message.ends_with(
                "internet → web (tcp 443 from 0.0.0.0/0) → report (tcp 9000 from group web) → \
                 db (tcp 3306 from group report)"
            ),
            "{}",
            chain.message
        );
    }

    #[test]
    fn rules_naming_another_accounts_group_are_noted_not_judged() {
        let model = SecurityModel::builder("acme")
            .group("api", &["tcp 8080 from group web of account partner"])
            .build()
            .unwrap();
        let tiers = vec![Tier::new("api", vec![profile(&model, &["api"])])];
        let findings = audit(&model, &tiers, &[]);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].severity, Severity::Info);
        assert_eq!(
            findings[0].message,
            "group \"api\" rule 0 (tcp 8080 from group web of account partner) admits another \
             account's group; flows between accounts are not modelled"
        );
    }

    #[test]
    fn needlessly_broad_rules_are_warned_about() {
        let model = SecurityModel::builder("acme")
            .group("web", &["tcp 80-443 from 0.0.0.0/0"])
            .group(
                "app",
                &["tcp 8080 from 10.0.0.0/8", "udp 53 from group web"],
            )
            .group("spare", &["tcp 9000 from group web"])
            .build()
            .unwrap();
        let tiers = vec![
            Tier::new("web", vec![profile(&model, &["web"])]),
            Tier::new("app", vec![profile(&model, &["app"])]),
        ];
        let flows = vec![
            Flow::from_internet(0, Protocol::Tcp, 80),
            Flow::from_internet(0, Protocol::Tcp, 443),
            Flow::between(0, 1, Protocol::Tcp, 8080),
        ];
        let findings = audit(&model, &tiers, &flows);
        assert!(errors(&findings).is_empty(), "{findings:#?}");
        assert_eq!(
            with_severity(&findings, Severity::Warning),
            [
                // 364 ports open where two are used.
                "group \"web\" rule 0 (tcp 80-443 from 0.0.0.0/0) admits 364 ports, but the \
                 flows that use it need only 80, 443",
                // Web instances' private addresses are in 10.0.0.0/8, so the range admits
                // them, and everything else on the private network.
                "group \"app\" rule 0 (tcp 8080 from 10.0.0.0/8) admits by address traffic that \
                 only tier \"web\" sends; a source naming that tier's group would admit it and \
                 nothing else",
                "group \"app\" rule 1 (udp 53 from group web) is used by no required flow",
            ]
        );
        // No instance is in "spare": its rule is not judged.
        assert_eq!(
            with_severity(&findings, Severity::Info),
            [
                "group \"spare\" has no instances in any tier; its rules were not checked against \
              the flows"
            ]
        );
    }

    #[test]
    fn profiles_that_never_take_part_in_a_flow_are_warned_about() {
        let model = seed_builder().group("db-legacy", &[]).build().unwrap();
        let mut tiers = seed_tiers(&model);
        tiers[2] = Tier::new(
            "db",
            vec![
                profile(&model, &["db", "ssh-admin"]),
                profile(&model, &["db-legacy"]),
            ],
        );
        let findings = audit(&model, &tiers, &seed_flows());
        assert_eq!(
            with_severity(&findings, Severity::Warning),
            [
                "flow 3 (app → db, tcp 3306): tier \"db\" profile 1 {db-legacy} admits it from no \
              sender, so its instances never count for it"
            ]
        );
    }

    #[test]
    fn bad_tiers_and_flows_are_rejected() {
        let model = seed_builder().build().unwrap();
        let reason = |tiers: &[Tier], flows: &[Flow]| {
            FlowMatrix::new(&model, tiers, flows, Cidr::ANY)
                .unwrap_err()
                .0
        };
        let tiers = seed_tiers(&model);
        assert_eq!(
            reason(&tiers, &[Flow::between(0, 3, Protocol::Tcp, 80)]),
            "flow 0: tier 3 does not exist (there are 3)"
        );
        assert_eq!(
            reason(&[Tier::new("web", vec![Profile::new(&[])])], &[]),
            "tier \"web\" profile 0: an instance has at least one group"
        );
        let other = SecurityModel::builder("other")
            .group("a", &[])
            .group("b", &[])
            .group("c", &[])
            .group("d", &[])
            .group("e", &[])
            .build()
            .unwrap();
        let foreign = Profile::new(&[other.group_id("e").unwrap()]);
        assert_eq!(
            reason(&[Tier::new("web", vec![foreign])], &[]),
            "tier \"web\" profile 0: group 5 is not a group of account \"acme\" (it has 5)"
        );
        assert_eq!(
            reason(&[Tier::new("web", vec![])], &[]),
            "tier \"web\" has no instance profile"
        );
        // The audit reports the same problem instead of auditing.
        let findings = audit(&model, &tiers, &[Flow::between(0, 3, Protocol::Tcp, 80)]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Error);
    }

    /// Tiers: web {web} (profile 0), app {app} (1) and {app-old} (2), db {db} (3) and
    /// {db, app-old} (4). app admits 8080 from web; app-old admits nothing; db admits 3306
    /// from app only.
    fn mixed_profiles() -> (SecurityModel, Vec<Tier>, Vec<Flow>) {
        let model = SecurityModel::builder("acme")
            .group("web", &["tcp 443 from 0.0.0.0/0"])
            .group("app", &["tcp 8080 from group web"])
            .group("app-old", &[])
            .group("db", &["tcp 3306 from group app"])
            .build()
            .unwrap();
        let tiers = vec![
            Tier::new("web", vec![profile(&model, &["web"])]),
            Tier::new(
                "app",
                vec![profile(&model, &["app"]), profile(&model, &["app-old"])],
            ),
            Tier::new(
                "db",
                vec![
                    profile(&model, &["db"]),
                    profile(&model, &["db", "app-old"]),
                ],
            ),
        ];
        let flows = vec![
            Flow::from_internet(0, Protocol::Tcp, 443),
            Flow::between(0, 1, Protocol::Tcp, 8080),
            Flow::between(1, 2, Protocol::Tcp, 3306),
        ];
        (model, tiers, flows)
    }

    #[test]
    fn flows_are_up_when_an_admitted_pair_has_healthy_instances_on_both_sides() {
        let (model, tiers, flows) = mixed_profiles();
        let matrix = FlowMatrix::new(&model, &tiers, &flows, Cidr::ANY).unwrap();
        assert_eq!(matrix.profile_count(), 5);
        assert_eq!(matrix.profiles_of(1), 1..3);
        // Healthy per profile: [web, app, app-old, db, db+app-old].
        let up = |flow, healthy: [u32; 5]| matrix.flow_up(flow, &healthy);
        // The internet is always there: 443 is up while a web instance is.
        assert!(up(0, [1, 0, 0, 0, 0]));
        assert!(!up(0, [0, 1, 1, 1, 1]));
        // web → app needs web and an app instance of the new profile; app-old admits nothing.
        assert!(up(1, [1, 1, 0, 0, 0]));
        assert!(!up(1, [1, 0, 3, 1, 1]));
        assert!(!up(1, [0, 1, 0, 0, 0]));
        // app → db: only the new app profile sends it; both db profiles admit it.
        assert!(up(2, [0, 1, 0, 1, 0]));
        assert!(up(2, [0, 1, 0, 0, 1]));
        assert!(!up(2, [0, 0, 2, 1, 1]));
        assert!(!up(2, [0, 1, 0, 0, 0]));
    }

    #[test]
    fn flows_touching_lists_only_flows_a_profile_takes_part_in() {
        let (model, tiers, flows) = mixed_profiles();
        let matrix = FlowMatrix::new(&model, &tiers, &flows, Cidr::ANY).unwrap();
        // web: reached from the internet, sends to app.
        assert_eq!(matrix.flows_touching(0), [0, 1]);
        // app: receives from web, sends to db.
        assert_eq!(matrix.flows_touching(1), [1, 2]);
        // app-old neither receives 8080 nor sends 3306 anywhere admitted.
        assert!(matrix.flows_touching(2).is_empty());
        // Both db profiles receive app → db.
        assert_eq!(matrix.flows_touching(3), [2]);
        assert_eq!(matrix.flows_touching(4), [2]);
    }

    #[test]
    fn a_flow_within_a_tier_needs_two_instances() {
        // Cluster members in "default" talk to each other on 7000.
        let model = SecurityModel::builder("acme").build().unwrap();
        let tiers = vec![Tier::new(
            "cluster",
            vec![Profile::new(&[GroupId::DEFAULT])],
        )];
        let flows = vec![Flow::between(0, 0, Protocol::Tcp, 7000)];
        let matrix = FlowMatrix::new(&model, &tiers, &flows, Cidr::ANY).unwrap();
        assert!(!matrix.flow_up(0, &[1]));
        assert!(matrix.flow_up(0, &[2]));
        assert_eq!(matrix.flows_touching(0), [0]);
    }

    #[test]
    fn flows_over_public_addresses_are_admitted_by_address_ranges_only() {
        // db admits 3306 from group app, and from app's elastic addresses 75.101.8.0/29.
        let model = SecurityModel::builder("acme")
            .group("app", &[])
            .group("db", &["tcp 3306 from group app"])
            .group("db-elastic", &["tcp 3306 from 75.101.8.0/29"])
            .build()
            .unwrap();
        let tiers = |db: &str, app_public: Option<&str>| {
            let app = profile(&model, &["app"]);
            let app = match app_public {
                Some(range) => app.with_public_range(cidr(range)),
                None => app,
            };
            vec![
                Tier::new("app", vec![app]),
                Tier::new("db", vec![profile(&model, &[db])]),
            ]
        };
        let private = vec![Flow::between(0, 1, Protocol::Tcp, 3306)];
        let public = vec![Flow::between(0, 1, Protocol::Tcp, 3306).over(Via::Public)];
        let pairs = |tiers: &[Tier], flows: &[Flow]| {
            let matrix = FlowMatrix::new(&model, tiers, flows, Cidr::ANY).unwrap();
            matrix.admitted_pairs(0).len()
        };
        // The group rule admits the private route only.
        assert_eq!(pairs(&tiers("db", None), &private), 1);
        assert_eq!(pairs(&tiers("db", Some("75.101.8.0/29")), &public), 0);
        // The address rule admits the public route, once the addresses are known to be
        // in its range (a pool address could be anything), and never the private one.
        assert_eq!(
            pairs(&tiers("db-elastic", Some("75.101.8.0/29")), &public),
            1
        );
        assert_eq!(
            pairs(&tiers("db-elastic", Some("75.101.8.4/30")), &public),
            1
        );
        assert_eq!(pairs(&tiers("db-elastic", None), &public), 0);
        assert_eq!(
            pairs(&tiers("db-elastic", Some("75.101.8.0/29")), &private),
            0
        );
        // The audit names the route of a flow that nothing admits, and does not suggest
        // a group source for a rule that only public traffic uses.
        let findings = audit(&model, &tiers("db", Some("75.101.8.0/29")), &public);
        assert_eq!(
            errors(&findings)[0].message,
            "flow 0 (app → db over public addresses, tcp 3306) is admitted for no pair of \
             instances: the application can never be up"
        );
        let findings = audit(&model, &tiers("db-elastic", Some("75.101.8.0/29")), &public);
        assert!(errors(&findings).is_empty(), "{findings:#?}");
        assert!(
            with_severity(&findings, Severity::Warning).is_empty(),
            "{findings:#?}"
        );
        // An internet flow is the same whatever route it is said to take.
        let web = Flow::from_internet(1, Protocol::Tcp, 3306);
        assert_eq!(web.over(Via::Private), web);
    }
}
