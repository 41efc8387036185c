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
}
