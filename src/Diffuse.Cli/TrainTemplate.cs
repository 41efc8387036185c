using Diffuse.Configuration;

namespace Diffuse.Cli;

/// <summary>The library's defaults of a new run, and the model configs of the demo's runs.</summary>
public static class TrainTemplate
{
    public const string DefaultPreset = Api.Defaults.ImagePreset;

    /// <summary>The defaults of image training (the library's, chosen for the tiny U-Net on MNIST-like data on a CPU).</summary>
    public static TrainingSpec ImageDefaults => Api.Defaults.ImageTraining;

    /// <summary>An image run with every default (the tiny U-Net, linear betas, epsilon), <paramref name="steps"/> steps and <paramref name="seed"/>.</summary>
    public static ModelConfig Images(int steps, long seed) => new()
    {
        Model = null, Unet = UNetConfig.Preset(DefaultPreset), Scheduler = new SchedulerConfig { ClipSample = true },
        Training = ImageDefaults with { Steps = steps, Seed = seed },
    };

    /// <summary>
    /// The demo's image run: <see cref="Images"/>, class-conditional on the data's labels with <paramref name="condDrop"/> of
    /// them replaced by the null label, so that the network also learns the unconditional model classifier-free guidance needs.
    /// </summary>
    public static ModelConfig ImageDemo(int steps, long seed, double condDrop)
    {
        var run = Images(steps, seed);
        return run with { Training = run.Training with { CondDrop = condDrop } };
    }

    /// <summary>A 2-D run with every default (the library's MLP and training settings) and <paramref name="seed"/>.</summary>
    public static ModelConfig Points(long seed) => new()
    {
        // Points are normalised to unit spread, so clipping x_0 to [-1, 1] would cut the data.
        Model = new MlpConfig(), Scheduler = new SchedulerConfig { ClipSample = false }, Training = Api.Defaults.PointTraining with { Seed = seed },
    };

    /// <summary>
    /// The preset with other levels. Attention moves with the levels: a level the preset attends at keeps its attention when it
    /// still exists, and attention below the new deepest level moves up to it.
    /// </summary>
    public static UNetConfig WithChannelMult(UNetConfig preset, int[] mult)
    {
        var attended = Enumerable.Range(0, preset.ChannelMult.Length)
            .Where(l => (preset.AttentionResolutions ?? []).Contains(preset.LevelResolution(l)))
            .Select(l => Math.Min(l, mult.Length - 1)).Distinct();
        return preset with { ChannelMult = mult, AttentionResolutions = attended.Select(l => preset.ImageSize >> l).ToArray() };
    }
}
