//! What configuration values must look like (`host:port`, http URLs) and where a key is written
//! (its line), for the errors that name the file and line.

/// `host:port` with a numeric port (0 lets a listener take any free port).
pub fn host_port(value: &str) -> Option<(&str, u16)> {
    let (host, port) = value.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    (!host.is_empty()).then_some((host, port))
}

/// An absolute http or https URL with a host.
pub fn check_url(value: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(value).map_err(|e| format!("{value:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{value:?} must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{value:?} has no host"));
    }
    Ok(())
}

/// 1-based line of `key` inside the `index`-th `[[table]]` of the TOML text (or of the table's
/// header when the key is not written there, its default being at fault).
pub fn line_of(text: &str, table: &str, index: usize, key: &str) -> Option<usize> {
    let header = format!("[[{table}]]");
    let mut seen = 0;
    let mut header_line = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            if header_line.is_some() {
                break;
            }
            if trimmed.starts_with(&header) {
                if seen == index {
                    header_line = Some(n + 1);
                }
                seen += 1;
            }
            continue;
        }
        if header_line.is_some()
            && let Some(rest) = trimmed.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            return Some(n + 1);
        }
    }
    header_line
}
