using Diffuse.Configuration;

namespace Diffuse.Cli;

/// <summary>The defaults of a new run that live in the CLI (image training's), and the model configs of the demo's runs.</summary>
public static class TrainTemplate
{
    public const string DefaultPreset = "tiny";

    /// <summary>The defaults of image training, chosen for the tiny U-Net on MNIST-like data on a CPU.</summary>
    public static readonly TrainingSpec ImageDefaults = new()
    {
        Steps = 3000, BatchSize = 64, LearningRate = 1e-3, WarmupSteps = 200, EmaDecay = 0.999,
    };

    /// <summary>An image run with every default (the tiny U-Net, linear betas, epsilon), <paramref name="steps"/> steps and <paramref name="seed"/>.</summary>
    public static ModelConfig Images(int steps, long seed) => new()
    {
        Model = null, Unet = UNetConfig.Preset(DefaultPreset), Scheduler = new SchedulerConfig { ClipSample = true },
        Training = ImageDefaults with { Steps = steps, Seed = seed },
    };

    /// <summary>A 2-D run with every default (the library's MLP and training settings) and <paramref name="seed"/>.</summary>
    public static ModelConfig Points(long seed) => new()
    {
        // Points are normalised to unit spread, so clipping x_0 to [-1, 1] would cut the data.
        Model = new MlpConfig(), Scheduler = new SchedulerConfig { ClipSample = false }, Training = new TrainingSpec { Seed = seed },
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
