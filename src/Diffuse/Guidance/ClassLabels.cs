using System.Globalization;

namespace Diffuse.Guidance;

/// <summary>Turns what a user types after <c>--class</c> into a class index of a model.</summary>
public static class ClassLabels
{
    /// <summary>
    /// The index of <paramref name="text"/> among <paramref name="classNames"/>: a class name (exact, then
    /// case-insensitive), or else an index in [0, K). Anything else is a one-line <see cref="DiffuseException"/> that
    /// lists the valid classes.
    /// </summary>
    public static int Resolve(string text, IReadOnlyList<string> classNames)
    {
        if (classNames.Count == 0) throw new DiffuseException("the model has no classes; --class needs a class-conditional model (train --cond class)");
        string wanted = text.Trim();
        for (int i = 0; i < classNames.Count; i++)
            if (classNames[i] == wanted) return i;
        for (int i = 0; i < classNames.Count; i++)
            if (string.Equals(classNames[i], wanted, StringComparison.OrdinalIgnoreCase)) return i;
        if (long.TryParse(wanted, NumberStyles.Integer, CultureInfo.InvariantCulture, out long index))
        {
            if (index >= 0 && index < classNames.Count) return (int)index;
            throw new DiffuseException($"class {index} is outside the model's labels 0..{classNames.Count - 1}; the classes are: {Listing(classNames)}");
        }
        throw new DiffuseException($"unknown class '{text}'; the model's classes are: {Listing(classNames)}");
    }

    /// <summary>"0 'zero', 1 'one', ..." (index and name).</summary>
    public static string Listing(IReadOnlyList<string> classNames) =>
        string.Join(", ", classNames.Select((name, i) => name == i.ToString(CultureInfo.InvariantCulture) ? name : $"{i} '{name}'"));
}
