//! libpq's password file (`~/.pgpass`, or `PGPASSFILE`): `host:port:database:user:password`
//! lines, `*` matching anything, `\:` and `\\` escaped. Hand-written: the format is five
//! fields, and no maintained crate reads it.

use std::path::Path;

/// The password of the first line that matches, as libpq picks it. A file that others may
/// read is ignored, as libpq ignores it; so is one that is not a small regular UTF-8 file (a
/// password file is small: a FIFO is not waited on, nothing past a megabyte is read).
pub fn lookup(path: &Path, host: &str, port: u16, database: &str, user: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let (text, meta) =
        crate::files::bounded::read_text(path, crate::files::bounded::SMALL_FILE_CAP).ok()?;
    if meta.permissions().mode() & 0o077 != 0 {
        return None;
    }
    find(&text, host, port, database, user)
}

fn find(text: &str, host: &str, port: u16, database: &str, user: &str) -> Option<String> {
    let port = port.to_string();
    let wanted = [host, port.as_str(), database, user];
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#') && !line.trim().is_empty())
        .find_map(|line| {
            let fields = split(line);
            if fields.len() < 5 {
                return None;
            }
            let matches = fields[..4]
                .iter()
                .zip(wanted)
                .all(|(field, want)| field == "*" || field == want);
            matches.then(|| fields[4..].join(":"))
        })
}

/// Splits at unescaped colons, removing the escapes.
fn split(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    fields.last_mut().unwrap().push(next);
                }
            }
            ':' => fields.push(String::new()),
            _ => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_matching_line_wins_with_wildcards_and_escapes() {
        let text = "# comment\n\
                    db.example:5432:shop:ada:s3cr\\:et\n\
                    *:*:*:ada:fallback\n\
                    localhost:5433:*:grace:g\\\\pw\n";
        assert_eq!(
            find(text, "db.example", 5432, "shop", "ada").as_deref(),
            Some("s3cr:et")
        );
        assert_eq!(
            find(text, "other", 1, "x", "ada").as_deref(),
            Some("fallback")
        );
        assert_eq!(
            find(text, "localhost", 5433, "any", "grace").as_deref(),
            Some("g\\pw")
        );
        assert_eq!(find(text, "localhost", 5432, "any", "grace"), None);
    }

    #[test]
    fn a_file_others_can_read_is_ignored() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pgpass");
        std::fs::write(&path, "*:*:*:*:pw\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(lookup(&path, "h", 1, "d", "u"), None);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(lookup(&path, "h", 1, "d", "u").as_deref(), Some("pw"));
    }
}
