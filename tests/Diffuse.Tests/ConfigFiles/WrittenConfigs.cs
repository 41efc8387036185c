namespace Diffuse.Tests.ConfigFiles;

/// <summary>
/// config.json files written by Diffuse before issue 20 (commit 91d9ebe): a moons model ('diffuse train --data moons --steps 5')
/// and a class-conditional MNIST U-Net ('diffuse train --data mnist --preset tiny --cond class ...'). They must keep loading.
/// </summary>
static class WrittenConfigs
{
    public const string Moons = """
        {
          "format": "diffuse-model",
          "version": 1,
          "network": {
            "type": "mlp",
            "input_dim": 2,
            "hidden_dim": 128,
            "blocks": 3,
            "time_embed_dim": 128
          },
          "scheduler": {
            "num_train_timesteps": 1000,
            "beta_start": 0.0001,
            "beta_end": 0.02,
            "beta_schedule": "linear",
            "prediction_type": "epsilon",
            "variance_type": "fixed_small",
            "clip_sample": false,
            "clip_sample_range": 1,
            "timestep_spacing": null,
            "steps_offset": 0,
            "set_alpha_to_one": null,
            "rescale_betas_zero_snr": false,
            "eta": 0,
            "skip_prk_steps": false,
            "use_clipped_model_output": false,
            "use_karras_sigmas": false,
            "use_exponential_sigmas": false,
            "solver_order": 2,
            "algorithm_type": "dpmsolver\u002B\u002B",
            "solver_type": null,
            "lower_order_final": null,
            "euler_at_final": false,
            "final_sigmas_type": null,
            "thresholding": false,
            "dynamic_thresholding_ratio": 0.995,
            "sample_max_value": 1,
            "lambda_min_clipped": "-Infinity"
          },
          "data": {
            "name": "moons",
            "dim": 2,
            "mean": [
              -0.0021498892,
              0.29805118
            ],
            "scale": 1.425429105758667
          },
          "training": {
            "steps": 5,
            "seed": 0,
            "batch_size": 512,
            "gradient_accumulation": 1,
            "learning_rate": 0.002,
            "lr_schedule": "cosine",
            "warmup_steps": 100,
            "weight_decay": 0,
            "loss": "simple",
            "min_snr_gamma": 5,
            "ema_decay": 0.995,
            "grad_clip": 1,
            "horizontal_flip": false,
            "crop_padding": 0,
            "validation_fraction": 0.05,
            "checkpoint_every": 500,
            "validate_every": 500,
            "sample_every": 1000,
            "micro_batch_size": 512
          }
        }
        """;

    public const string ClassConditionalMnist = """
        {
          "format": "diffuse-model",
          "version": 1,
          "network": {
            "type": "unet",
            "in_channels": 1,
            "out_channels": 1,
            "image_size": 28,
            "base_channels": 24,
            "channel_mult": [
              1,
              2,
              4
            ],
            "num_res_blocks": 1,
            "attention_resolutions": [
              7
            ],
            "num_heads": 4,
            "dropout": 0,
            "scale_shift": false,
            "num_classes": 10,
            "group_norm_groups": 8,
            "resampling_with_conv": true
          },
          "scheduler": {
            "num_train_timesteps": 20,
            "beta_start": 0.0001,
            "beta_end": 0.02,
            "beta_schedule": "linear",
            "prediction_type": "epsilon",
            "variance_type": "fixed_small",
            "clip_sample": true,
            "clip_sample_range": 1,
            "timestep_spacing": null,
            "steps_offset": 0,
            "set_alpha_to_one": null,
            "rescale_betas_zero_snr": false,
            "eta": 0,
            "skip_prk_steps": false,
            "use_clipped_model_output": false,
            "use_karras_sigmas": false,
            "use_exponential_sigmas": false,
            "solver_order": 2,
            "algorithm_type": "dpmsolver\u002B\u002B",
            "solver_type": null,
            "lower_order_final": null,
            "euler_at_final": false,
            "final_sigmas_type": null,
            "thresholding": false,
            "dynamic_thresholding_ratio": 0.995,
            "sample_max_value": 1,
            "lambda_min_clipped": "-Infinity"
          },
          "data": {
            "name": "mnist",
            "dim": 784,
            "mean": [],
            "scale": 1,
            "image": {
              "channels": 1,
              "height": 28,
              "width": 28,
              "class_names": [
                "0",
                "1",
                "2",
                "3",
                "4",
                "5",
                "6",
                "7",
                "8",
                "9"
              ],
              "train_count": 38
            }
          },
          "training": {
            "steps": 2,
            "seed": 0,
            "batch_size": 4,
            "gradient_accumulation": 1,
            "learning_rate": 0.001,
            "lr_schedule": "cosine",
            "warmup_steps": 200,
            "weight_decay": 0,
            "loss": "simple",
            "min_snr_gamma": 5,
            "cond_drop": 0.1,
            "ema_decay": 0.999,
            "grad_clip": 1,
            "horizontal_flip": false,
            "crop_padding": 0,
            "validation_fraction": 0.05,
            "checkpoint_every": 0,
            "validate_every": 0,
            "sample_every": 0,
            "micro_batch_size": 4
          }
        }
        """;
}
