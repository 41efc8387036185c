using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text;

namespace Diffuse.Cli;

/// <summary>
/// A command of the tool: System.CommandLine parses and checks each option's value; the checks added here (combinations of
/// options, files that must or must not exist) run on the finished parse, before the command's action and any work.
/// </summary>
public abstract class DiffuseCommand : Command
{
    readonly List<Action<SymbolResult>> checks = [];

    /// <param name="description">The summary line, then paragraphs (re-flowed to the help's width) and example lines (kept as they are).</param>
    protected DiffuseCommand(string name, string description) : base(name, Reflow(description)) { }

    /// <summary>Adds a check of the parsed line; a <see cref="UsageException"/> it throws is a usage error (exit 2).</summary>
    public void AddCheck(Action<SymbolResult> check) => checks.Add(check);

    /// <summary>Runs the checks on the parse of this command (its options' defaults filled in).</summary>
    public void Check(ParseResult result)
    {
        foreach (var check in checks) check(result.CommandResult);
    }

    /// <summary>Joins the lines of each paragraph so that the help wraps them; blank lines, and lines starting with "diffuse " or spaces, stay.</summary>
    static string Reflow(string text)
    {
        var result = new StringBuilder();
        bool joinable = false;
        foreach (var line in text.ReplaceLineEndings("\n").Split('\n'))
        {
            bool verbatim = line.Length == 0 || line.StartsWith("diffuse ", StringComparison.Ordinal) || line.StartsWith(' ');
            if (joinable && !verbatim) result.Append(' ').Append(line);
            else result.Append(result.Length == 0 ? "" : "\n").Append(line);
            joinable = !verbatim;
        }
        return result.ToString();
    }
}
