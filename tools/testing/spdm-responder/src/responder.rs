// SPDX-License-Identifier: GPL-2.0

//! The SPDM message handler.

/// SPDM request code GET_VERSION.
pub const GET_VERSION: u8 = 0x84;
/// SPDM response code VERSION.
pub const VERSION: u8 = 0x04;
/// SPDM response code ERROR.
pub const ERROR: u8 = 0x7F;
/// ERROR code InvalidRequest.
pub const ERR_INVALID_REQUEST: u8 = 0x01;
/// ERROR code UnsupportedRequest.
pub const ERR_UNSUPPORTED_REQUEST: u8 = 0x07;
/// ERROR code VersionMismatch.
pub const ERR_VERSION_MISMATCH: u8 = 0x41;

/// Responder configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Versions advertised in VERSION, as `VersionNumberEntry` values, in order.
    pub versions: Vec<u16>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            versions: vec![0x1000, 0x1100, 0x1200, 0x1300],
        }
    }
}

/// Parses a version list such as `1.0,1.2,1.3` (or `1.2.1` with an update number).
pub fn parse_versions(s: &str) -> Result<Vec<u16>, String> {
    let mut out = Vec::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let parts: Vec<&str> = item.split('.').collect();
        if parts.len() < 2 || parts.len() > 3 {
            return Err(format!("bad version '{}': want MAJOR.MINOR[.UPDATE]", item));
        }
        let mut nums = [0u16; 3];
        for (i, p) in parts.iter().enumerate() {
            nums[i] = p
                .parse::<u16>()
                .ok()
                .filter(|n| *n <= 15)
                .ok_or_else(|| format!("bad version '{}': fields are 0..15", item))?;
        }
        out.push((nums[0] << 12) | (nums[1] << 8) | (nums[2] << 4));
    }
    if out.is_empty() {
        return Err("empty version list".into());
    }
    if out.len() > 255 {
        return Err("more than 255 versions".into());
    }
    Ok(out)
}

/// Formats a `VersionNumberEntry` as `M.N`.
pub fn format_version(entry: u16) -> String {
    format!("{}.{}", entry >> 12, (entry >> 8) & 0xF)
}

/// An emulated SPDM responder.
#[derive(Debug, Clone)]
pub struct Responder {
    config: Config,
}

fn error(version: u8, code: u8, data: u8) -> Vec<u8> {
    vec![version, ERROR, code, data]
}

impl Responder {
    /// Creates a responder.
    pub fn new(config: Config) -> Self {
        Responder { config }
    }

    /// Answers one SPDM request (bare SPDM message, no transport header).
    pub fn handle(&mut self, req: &[u8]) -> Vec<u8> {
        let (version, code) = match req {
            [v, c, ..] => (*v, *c),
            _ => return error(0x10, ERR_INVALID_REQUEST, 0),
        };
        match code {
            GET_VERSION => {
                if version != 0x10 {
                    return error(0x10, ERR_VERSION_MISMATCH, 0);
                }
                if req.len() < 4 {
                    return error(0x10, ERR_INVALID_REQUEST, 0);
                }
                let mut rsp = vec![0x10, VERSION, 0, 0, 0, self.config.versions.len() as u8];
                for v in &self.config.versions {
                    rsp.extend_from_slice(&v.to_le_bytes());
                }
                rsp
            }
            _ => error(version, ERR_UNSUPPORTED_REQUEST, code),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_list_parsing() {
        assert_eq!(parse_versions("1.0,1.1").unwrap(), vec![0x1000, 0x1100]);
        assert_eq!(parse_versions(" 1.2.1 ").unwrap(), vec![0x1210]);
        assert!(parse_versions("").is_err());
        assert!(parse_versions("1").is_err());
        assert!(parse_versions("1.16").is_err());
        assert!(parse_versions("x.y").is_err());
        assert_eq!(format_version(0x1310), "1.3");
    }

    #[test]
    fn answers_get_version_byte_exact() {
        let mut r = Responder::new(Config {
            versions: vec![0x1100, 0x1300],
        });
        assert_eq!(
            r.handle(&[0x10, 0x84, 0, 0]),
            vec![0x10, 0x04, 0, 0, 0, 2, 0x00, 0x11, 0x00, 0x13]
        );
    }

    #[test]
    fn answers_errors() {
        let mut r = Responder::new(Config::default());
        assert_eq!(r.handle(&[0x12, 0xE1, 0, 0]), vec![0x12, 0x7F, 0x07, 0xE1]);
        assert_eq!(r.handle(&[0x11, 0x84, 0, 0]), vec![0x10, 0x7F, 0x41, 0]);
        assert_eq!(r.handle(&[0x10]), vec![0x10, 0x7F, 0x01, 0]);
        assert_eq!(r.handle(&[0x10, 0x84]), vec![0x10, 0x7F, 0x01, 0]);
    }
}
