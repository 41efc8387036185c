using Diffuse.Configuration;

namespace Diffuse.Api;

/// <summary>
/// The data kinds by the model configs they recognise: points and images built in, more through <see cref="Register"/>.
/// The most recently registered kind that recognises a config (or trains on a data name) is its kind, so a registration
/// may claim what an older kind would also take (points take every config without an image section; images train on any
/// name that is not a toy distribution's, and say so when no dataset has it).
/// </summary>
public static class DataKinds
{
    static readonly object Gate = new();
    static IDataKind[] kinds = [ImageKind.Instance, PointKind.Instance];

    /// <summary>The registered kinds, oldest first.</summary>
    public static IReadOnlyList<IDataKind> All
    {
        get { lock (Gate) return kinds; }
    }

    /// <summary>Adds <paramref name="kind"/>, or replaces the kind of the same name (so registering twice is harmless).</summary>
    public static void Register(IDataKind kind)
    {
        ArgumentNullException.ThrowIfNull(kind);
        if (string.IsNullOrWhiteSpace(kind.Name)) throw new DiffuseException("a data kind needs a name");
        lock (Gate) kinds = [.. kinds.Where(k => k.Name != kind.Name), kind];
    }

    /// <summary>The kind of <paramref name="config"/>'s model: the newest registration that recognises it.</summary>
    public static IDataKind For(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var all = All;
        for (int i = all.Count - 1; i >= 0; i--)
            if (all[i].Recognises(config)) return all[i];
        throw new DiffuseException($"no data kind takes the data '{config.Data.Name}' (kinds: {string.Join(", ", all.Select(k => k.Name))})");
    }

    /// <summary>The kind that trains on <paramref name="data"/> (<see cref="TrainRequest.Data"/>): the newest registration that takes it.</summary>
    public static IDataKind ForData(string data)
    {
        var all = All;
        for (int i = all.Count - 1; i >= 0; i--)
            if (all[i].TrainsOn(data)) return all[i];
        throw new DiffuseException($"no data kind trains on '{data}' (kinds: {string.Join(", ", all.Select(k => k.Name))})");
    }
}
