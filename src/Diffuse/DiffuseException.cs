namespace Diffuse;

/// <summary>
/// A problem with the user's input (a name, a file, a shape, a value) that the user can fix.
/// Its message is one line that says what is wrong and what to do; the CLI prints it without a
/// stack trace and exits non-zero.
/// </summary>
public sealed class DiffuseException : Exception
{
    public DiffuseException(string message) : base(message) { }
    public DiffuseException(string message, Exception inner) : base(message, inner) { }

    /// <summary>
    /// The parameter or config key the message names (e.g. <c>learning_rate</c>), written as it is at the start of the
    /// message, so that a front end can put its own name for it there (the CLI its flag, <c>--lr</c>); null when the
    /// message names none.
    /// </summary>
    public string? Key { get; init; }

    /// <summary>
    /// True when the request was refused as given, not failed: an output already there that only a force flag may replace.
    /// The CLI exits with its usage code for it, as for its own such refusals.
    /// </summary>
    public bool IsRefusal { get; init; }

    /// <summary>An output that exists and needs a force flag to be replaced (<see cref="IsRefusal"/>).</summary>
    public static DiffuseException NeedsForce(string message) => new(message) { IsRefusal = true };

    /// <summary>An error about <paramref name="key"/>: the message should begin with the key.</summary>
    public static DiffuseException For(string key, string message) => new(message) { Key = key };
}
