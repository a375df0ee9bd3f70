fn main() -> std::process::ExitCode {
    webmail_server::cli::run()
}
