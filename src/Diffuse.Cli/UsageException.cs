namespace Diffuse.Cli;

/// <summary>A command line that cannot be run as written (exit code 2), found after the parse (e.g. against the model's config).</summary>
public sealed class UsageException(string message) : Exception(message);
