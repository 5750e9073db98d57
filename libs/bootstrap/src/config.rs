//! Layered configuration: built-in defaults, then `config/<service>.toml` (or the file named by
//! `TESSERA_CONFIG`), then environment variables `TESSERA_<SECTION>__<KEY>`. Later layers win.
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{de::DeserializeOwned, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration is invalid: {0}")]
    Invalid(#[from] Box<figment::Error>),
}

pub fn load_config<T: Serialize + DeserializeOwned + Default>(
    service: &str,
) -> Result<T, ConfigError> {
    let file = std::env::var("TESSERA_CONFIG").unwrap_or_else(|_| format!("config/{service}.toml"));
    Figment::from(Serialized::defaults(T::default()))
        .merge(Toml::file(file))
        .merge(Env::prefixed("TESSERA_").split("__"))
        .extract()
        .map_err(|e| ConfigError::Invalid(Box::new(e)))
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail fixes the closure's error type
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
    struct Http {
        port: u16,
        host: String,
    }
    #[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
    struct Cfg {
        http: Http,
        name: String,
    }

    #[test]
    fn file_overrides_defaults_and_environment_overrides_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "svc.toml",
                "name = \"from-file\"\n[http]\nport = 8080\nhost = \"0.0.0.0\"",
            )?;
            jail.set_env("TESSERA_CONFIG", "svc.toml");
            jail.set_env("TESSERA_HTTP__PORT", "9090");
            let cfg: Cfg = load_config("svc").map_err(|e| e.to_string())?;
            assert_eq!(cfg.http.port, 9090);
            assert_eq!(cfg.http.host, "0.0.0.0");
            assert_eq!(cfg.name, "from-file");
            Ok(())
        });
    }

    #[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
    struct Listener {
        tenant: String,
        port: u16,
    }
    #[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
    struct WithList {
        listeners: Vec<Listener>,
    }

    /// The form Helm writes lists of tables in (e.g. the MPI's MLLP listeners).
    #[test]
    fn a_list_of_tables_can_come_from_one_variable() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("TESSERA_CONFIG", "nope.toml");
            jail.set_env(
                "TESSERA_LISTENERS",
                r#"[{tenant="RXR",port=2575},{tenant="RBT",port=2576}]"#,
            );
            let cfg: WithList = load_config("svc").map_err(|e| e.to_string())?;
            assert_eq!(cfg.listeners.len(), 2);
            assert_eq!(cfg.listeners[1].tenant, "RBT");
            assert_eq!(cfg.listeners[1].port, 2576);
            Ok(())
        });
    }

    #[test]
    fn a_missing_file_leaves_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("TESSERA_CONFIG", "nope.toml");
            let cfg: Cfg = load_config("svc").map_err(|e| e.to_string())?;
            assert_eq!(cfg, Cfg::default());
            Ok(())
        });
    }

    #[test]
    fn a_wrong_type_is_a_clear_error() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("TESSERA_CONFIG", "nope.toml");
            jail.set_env("TESSERA_HTTP__PORT", "eighty");
            let err = load_config::<Cfg>("svc").unwrap_err().to_string();
            assert!(err.to_lowercase().contains("port"), "{err}");
            Ok(())
        });
    }
}
