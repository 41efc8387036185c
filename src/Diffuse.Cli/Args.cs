using System.Globalization;

namespace Diffuse.Cli;

/// <summary>
/// The options of one command: <c>--name value</c>, <c>--name=value</c> and bare <c>--flag</c>s.
/// Anything unknown, repeated or malformed is a <see cref="UsageException"/> with a one-line message.
/// </summary>
public sealed class Args
{
    private readonly Dictionary<string, string> values = new(StringComparer.Ordinal);
    private readonly HashSet<string> flags = new(StringComparer.Ordinal);
    private readonly string command;

    private Args(string command) => this.command = command;

    /// <param name="valueOptions">Option names (without dashes) that take a value.</param>
    /// <param name="flagOptions">Option names that take none.</param>
    public static Args Parse(string command, IReadOnlyList<string> argv, IReadOnlyCollection<string> valueOptions, IReadOnlyCollection<string> flagOptions)
    {
        var args = new Args(command);
        for (int i = 0; i < argv.Count; i++)
        {
            string token = argv[i];
            if (!token.StartsWith("--", StringComparison.Ordinal) || token.Length == 2)
                throw new UsageException($"unexpected argument '{token}' for '{command}' (options start with --; see 'diffuse {command} --help')");
            string name = token[2..];
            string? inline = null;
            int eq = name.IndexOf('=');
            if (eq >= 0) { inline = name[(eq + 1)..]; name = name[..eq]; }
            if (flagOptions.Contains(name))
            {
                if (inline != null) throw new UsageException($"option --{name} of '{command}' takes no value");
                if (!args.flags.Add(name)) throw new UsageException($"option --{name} is given twice");
            }
            else if (valueOptions.Contains(name))
            {
                string value = inline ?? (i + 1 < argv.Count ? argv[++i] : throw new UsageException($"option --{name} of '{command}' needs a value"));
                if (!args.values.TryAdd(name, value)) throw new UsageException($"option --{name} is given twice");
            }
            else
            {
                var known = valueOptions.Concat(flagOptions).Select(o => "--" + o);
                throw new UsageException($"unknown option --{name} for '{command}'; known: {string.Join(", ", known)}");
            }
        }
        return args;
    }

    public bool Has(string flag) => flags.Contains(flag);

    public string? Get(string name) => values.TryGetValue(name, out var v) ? v : null;

    public string Require(string name)
    {
        var value = Get(name) ?? throw new UsageException($"'{command}' needs --{name} (see 'diffuse {command} --help')");
        // An empty path would reach the library's argument checks and crash with a stack trace.
        if (value.Length == 0) throw new UsageException($"--{name} of '{command}' must not be empty");
        return value;
    }

    public int Int(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        var text = Get(name);
        if (text is null) return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
            throw new UsageException($"--{name} must be a whole number, got '{text}'");
        if (v < min || v > max)
            throw new UsageException($"--{name} must be {(max == int.MaxValue ? $"at least {min}" : $"between {min} and {max}")}, got {v}");
        return v;
    }

    public long Long(string name, long fallback)
    {
        var text = Get(name);
        if (text is null) return fallback;
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v))
            throw new UsageException($"--{name} must be a whole number, got '{text}'");
        return v;
    }

    public double Double(string name, double fallback, double min = double.NegativeInfinity, bool minExclusive = false)
    {
        var text = Get(name);
        if (text is null) return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new UsageException($"--{name} must be a number, got '{text}'");
        if (minExclusive ? v <= min : v < min)
            throw new UsageException($"--{name} must be {(minExclusive ? "greater than" : "at least")} {min.ToString(CultureInfo.InvariantCulture)}, got {text}");
        return v;
    }
}
