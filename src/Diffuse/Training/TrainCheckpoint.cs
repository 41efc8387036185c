using System.Globalization;
using Diffuse.IO;
using Diffuse.Process;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Training;

/// <summary>
/// Everything a run needs to continue exactly where it stopped, in ONE safetensors file written
/// atomically (temporary file, flush, rename), so that killing the process at any moment leaves
/// either the previous checkpoint or the new one, never a mixture: the weights, the EMA weights,
/// AdamW's moments and step counts, the trainer's step, the EMA's update count, the state of the
/// run's generators (timesteps, noise and augmentation; dropout), and a loss-aware timestep sampler's loss history.
/// The data order is a function of the step, so it needs no state of its own.
/// </summary>
internal static class TrainCheckpoint
{
    const string ModelPrefix = "model.";
    const string EmaPrefix = "ema.";
    const string OptimizerKey = "optimizer";
    const string GeneratorPrefix = "rng.";
    const string StepKey = "step";
    const string EmaUpdatesKey = "ema_updates";
    const string FingerprintKey = "config_fingerprint";
    const string SamplerLossesKey = "timestep_sampler.losses";
    const string SamplerCountsKey = "timestep_sampler.counts";

    /// <summary>Writes the trainer's state to <paramref name="path"/>; <paramref name="fingerprint"/> ties it to the run's config.</summary>
    public static void Save(string path, Trainer trainer, Generator generator, string fingerprint) =>
        Save(path, trainer, new Dictionary<string, Generator> { ["run"] = generator }, fingerprint);

    /// <summary>Writes the trainer's state and the named generators' states to <paramref name="path"/>.</summary>
    public static void Save(string path, Trainer trainer, IReadOnlyDictionary<string, Generator> generators, string fingerprint)
    {
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, t) in trainer.Model.state_dict()) tensors[ModelPrefix + name] = t;
        foreach (var (name, t) in trainer.Ema.Shadow.state_dict()) tensors[EmaPrefix + name] = t;
        using (var buffer = new MemoryStream())
        {
            using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
                trainer.Optimizer.save_state_dict(writer);
            tensors[OptimizerKey] = tensor(buffer.ToArray());
        }
        foreach (var (name, g) in generators) tensors[GeneratorPrefix + name] = g.get_state();
        if (trainer.Objective.TimestepSampler is { } sampler)
        {
            var history = sampler.State();
            tensors[SamplerLossesKey] = history.Losses;
            tensors[SamplerCountsKey] = history.Counts;
        }
        var metadata = new Dictionary<string, string>
        {
            [StepKey] = trainer.Step.ToString(CultureInfo.InvariantCulture),
            [EmaUpdatesKey] = trainer.Ema.Updates.ToString(CultureInfo.InvariantCulture),
            [FingerprintKey] = fingerprint,
        };
        SafeTensors.Write(path, tensors, metadata);
        // AdamW's state passes through tens of MB of large-object-heap buffers (the stream, its
        // copy); the GC keeps such memory resident until told, so a long run would grow by that
        // much at every checkpoint. Collect and compact it now.
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect();
    }

    /// <summary>The step a checkpoint file was written at, or null when it cannot be read.</summary>
    public static int? StepOf(string path)
    {
        try
        {
            using var file = SafeTensors.Read(path);
            return file.Metadata.TryGetValue(StepKey, out var s) && int.TryParse(s, CultureInfo.InvariantCulture, out int step) ? step : null;
        }
        catch (DiffuseException)
        {
            return null;
        }
    }

    /// <summary>
    /// Restores a trainer (built from the same config) and its generator from <paramref name="path"/>.
    /// Everything is checked before anything changes; a mismatch is a one-line <see cref="DiffuseException"/>.
    /// </summary>
    public static void Load(string path, Trainer trainer, Generator generator, string fingerprint) =>
        Load(path, trainer, new Dictionary<string, Generator> { ["run"] = generator }, fingerprint);

    /// <summary>Restores a trainer and the named generators (the same names as when saved).</summary>
    public static void Load(string path, Trainer trainer, IReadOnlyDictionary<string, Generator> generators, string fingerprint)
    {
        using var file = SafeTensors.Read(path);
        var m = file.Metadata;
        if (!m.TryGetValue(FingerprintKey, out var saved) || saved != fingerprint)
            throw new DiffuseException($"{path} was written by a run with other settings; resume with the settings in config.json or start a new --out");
        if (!m.TryGetValue(StepKey, out var stepText) || !int.TryParse(stepText, CultureInfo.InvariantCulture, out int step) || step < 0)
            throw new DiffuseException($"{path} has no valid step count");
        if (!m.TryGetValue(EmaUpdatesKey, out var emaText) || !long.TryParse(emaText, CultureInfo.InvariantCulture, out long emaUpdates) || emaUpdates < 0)
            throw new DiffuseException($"{path} has no valid EMA update count");
        foreach (var key in generators.Keys.Select(n => GeneratorPrefix + n).Prepend(OptimizerKey))
            if (!file.Tensors.ContainsKey(key)) throw new DiffuseException($"{path} is missing '{key}'");

        var model = Section(file.Tensors, ModelPrefix);
        if (file.Tensors.Keys.Count(k => k.StartsWith(GeneratorPrefix, StringComparison.Ordinal)) != generators.Count)
            throw new DiffuseException($"{path} holds the states of other random generators than this run uses");
        var ema = Section(file.Tensors, EmaPrefix);
        Check(path, model, trainer.Model);
        Check(path, ema, trainer.Ema.Shadow);
        var sampler = trainer.Objective.TimestepSampler;
        LossHistory? history = null;
        if (sampler is not null)
        {
            if (!file.Tensors.TryGetValue(SamplerLossesKey, out var losses) || !file.Tensors.TryGetValue(SamplerCountsKey, out var counts))
                throw new DiffuseException($"{path} has no loss history of the loss-aware timestep sampler");
            history = new LossHistory(losses, counts);
            try
            {
                sampler.Check(history);
            }
            catch (DiffuseException e)
            {
                throw new DiffuseException($"{path}: {e.Message}", e);
            }
        }
        else if (file.Tensors.ContainsKey(SamplerLossesKey) || file.Tensors.ContainsKey(SamplerCountsKey))
            throw new DiffuseException($"{path} holds a loss-aware timestep sampler's history, but this run draws timesteps uniformly");
        using (no_grad())
        {
            foreach (var (name, t) in trainer.Model.state_dict()) t.copy_(model[name]);
            foreach (var (name, t) in trainer.Ema.Shadow.state_dict()) t.copy_(ema[name]);
        }
        var bytes = file.Tensors[OptimizerKey].data<byte>().ToArray();
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes));
            trainer.Optimizer.load_state_dict(reader);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ArgumentException or InvalidOperationException)
        {
            throw new DiffuseException($"{path} holds an optimizer state that does not fit this model: {e.Message}", e);
        }
        foreach (var (name, g) in generators) g.set_state(file.Tensors[GeneratorPrefix + name]);
        if (history is not null) sampler!.Restore(history);
        trainer.Step = step;
        trainer.Ema.Updates = emaUpdates;
    }

    static Dictionary<string, Tensor> Section(IReadOnlyDictionary<string, Tensor> all, string prefix) =>
        all.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);

    static void Check(string path, Dictionary<string, Tensor> saved, nn.Module module)
    {
        var state = module.state_dict();
        foreach (var (name, t) in state)
        {
            if (!saved.TryGetValue(name, out var s))
                throw new DiffuseException($"{path} does not match the model: '{name}' is missing");
            if (!s.shape.SequenceEqual(t.shape) || s.dtype != t.dtype)
                throw new DiffuseException($"{path} does not match the model: '{name}' differs in shape or dtype");
        }
        if (saved.Count != state.Count)
            throw new DiffuseException($"{path} does not match the model: it holds {saved.Count} tensors, the model {state.Count}");
    }
}
