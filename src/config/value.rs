//! One value of the configuration: from its environment variable when
//! set, else from the file, else a default; a value that does not parse
//! names its variable.

use std::time::Duration;

use anyhow::{Context, Result};

/// A number from the environment variable `name`, else from the file.
pub fn number<T: std::str::FromStr>(
    env: &dyn Fn(&str) -> Option<String>,
    name: &str,
    file: Option<T>,
) -> Result<Option<T>>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    match env(name) {
        Some(v) => Ok(Some(
            v.trim().parse().with_context(|| format!("{name}={v:?}"))?,
        )),
        None => Ok(file),
    }
}

/// Seconds from the environment or the file, else `default`.
pub fn seconds(
    env: &dyn Fn(&str) -> Option<String>,
    name: &str,
    file: Option<u64>,
    default: Duration,
) -> Result<Duration> {
    Ok(number(env, name, file)?.map_or(default, Duration::from_secs))
}
