# The noise schedulers (DDIM, Euler, Euler ancestral, DPM-Solver++ multistep)
# with diffusers' numerics.
target_sources(reelfarm_pipeline PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/schedulers/ddim.cc
  ${CMAKE_CURRENT_LIST_DIR}/schedulers/dpm_solver_multistep.cc
  ${CMAKE_CURRENT_LIST_DIR}/schedulers/euler.cc
  ${CMAKE_CURRENT_LIST_DIR}/schedulers/noise_schedule.cc
  ${CMAKE_CURRENT_LIST_DIR}/schedulers/numpy_compat.cc
  ${CMAKE_CURRENT_LIST_DIR}/schedulers/scheduler_config.cc
  ${CMAKE_CURRENT_LIST_DIR}/schedulers/scheduler_factory.cc
  ${CMAKE_CURRENT_LIST_DIR}/schedulers/step_utils.cc
)
